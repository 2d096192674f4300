package smb

import "testing"

// A client may be granted the whole window at once; an id it skips holds
// the window's low end, so ids used past it narrow what is granted until
// the skipped id is used, which frees the window again.
func TestCreditWindowSkippedID(t *testing.T) {
	var w creditWindow
	w.init()
	if !w.consume(0, 1) {
		t.Fatal("first id refused")
	}
	if g := w.grant(65535, 1); g != maxCredits {
		t.Fatalf("granted %d, want the window of %d", g, maxCredits)
	}
	// Skip id 1; use 2.. and ask one credit back for each.
	for id := uint64(2); id <= maxCredits; id++ {
		if !w.consume(id, 1) {
			t.Fatalf("id %d refused", id)
		}
		if g := w.grant(1, 1); g != 0 {
			t.Fatalf("id %d: granted %d past the window", id, g)
		}
	}
	if w.consume(maxCredits+1, 1) {
		t.Fatal("id past the window accepted")
	}
	if !w.consume(1, 1) {
		t.Fatal("the skipped id refused")
	}
	if g := w.grant(65535, 1); g != maxCredits {
		t.Fatalf("after the skipped id: granted %d, want %d", g, maxCredits)
	}
	if len(w.used) != 0 {
		t.Fatalf("%d used ids kept", len(w.used))
	}
}
