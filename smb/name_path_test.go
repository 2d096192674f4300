package smb

import (
	"testing"

	"github.com/cifsd/cifsd/smb2"
)

func TestCleanPath(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		st   smb2.Status
	}{
		{"", ".", smb2.StatusSuccess},
		{`a`, "a", smb2.StatusSuccess},
		{`a\b\c.txt`, "a/b/c.txt", smb2.StatusSuccess},
		{`dir\`, "dir", smb2.StatusSuccess},
		{`file::$DATA`, "file", smb2.StatusSuccess},
		{`\a`, "", smb2.StatusInvalidParameter},
		{`..`, "", smb2.StatusObjectPathSyntaxBad},
		{`..\..\..`, "", smb2.StatusObjectPathSyntaxBad},
		{`a\..\..\etc`, "", smb2.StatusObjectPathSyntaxBad},
		// ".." takes away the element before it, existing or not.
		{`a\..`, ".", smb2.StatusSuccess},
		{`a\b\..`, "a", smb2.StatusSuccess},
		{`a\b\..\c\`, "a/c", smb2.StatusSuccess},
		{`a\..\b\..\c`, "c", smb2.StatusSuccess},
		{`a\..\*`, "", smb2.StatusObjectNameInvalid},
		{`a*\..\b`, "", smb2.StatusObjectNameInvalid},
		{`a\.\b`, "", smb2.StatusObjectNameInvalid},
		{`a\\b`, "", smb2.StatusObjectNameInvalid},
		{`a/b`, "", smb2.StatusObjectNameInvalid}, // '/' is not a separator in SMB
		{`a*`, "", smb2.StatusObjectNameInvalid},
		{"a\x01", "", smb2.StatusObjectNameInvalid},
	} {
		got, _, st := cleanPath(c.in)
		if got != c.want || st != c.st {
			t.Errorf("cleanPath(%q) = %q, %v; want %q, %v", c.in, got, st, c.want, c.st)
		}
	}
}

func TestCreditWindow(t *testing.T) {
	var w creditWindow
	w.init()
	if !w.consume(0, 1) {
		t.Fatal("first id refused")
	}
	if w.consume(0, 1) {
		t.Fatal("id 0 accepted twice")
	}
	if w.consume(1, 1) {
		t.Fatal("id beyond the grant accepted")
	}
	if g := w.grant(10, 1); g != 10 {
		t.Fatalf("granted %d, want 10", g)
	}
	// Out-of-order use inside the window is fine; a multi-credit request
	// uses consecutive ids.
	if !w.consume(5, 4) || !w.consume(1, 1) {
		t.Fatal("valid ids refused")
	}
	if w.consume(8, 1) {
		t.Fatal("id used by a multi-credit request accepted again")
	}
	if w.consume(9, 4) {
		t.Fatal("request beyond the window accepted")
	}
	if !w.consume(9, 2) {
		t.Fatal("last ids refused")
	}
	// The window never exceeds maxCredits outstanding.
	total := 0
	for i := 0; i < 10; i++ {
		total += int(w.grant(creditsPerResponse, 1))
	}
	if outstanding := int(w.high-w.low) - len(w.used); outstanding > maxCredits {
		t.Fatalf("%d credits outstanding, max %d", outstanding, maxCredits)
	}
}

func TestCleanPathStreams(t *testing.T) {
	for _, c := range []struct{ in, name, stream string }{
		{`f:s`, "f", "s"},
		{`d\f:Stream One:$DATA`, "d/f", "Stream One"},
		{`f::$DATA`, "f", ""},
		{`f:s:$data`, "f", "s"},
	} {
		name, stream, st := cleanPath(c.in)
		if st != smb2.StatusSuccess || name != c.name || stream != c.stream {
			t.Errorf("cleanPath(%q) = %q, %q, %v", c.in, name, stream, st)
		}
	}
	for _, bad := range []string{`f:s:$INDEX_ALLOCATION`, `f:`, `f:a:b:c`} {
		if _, _, st := cleanPath(bad); st == smb2.StatusSuccess {
			t.Errorf("cleanPath(%q) accepted", bad)
		}
	}
}
