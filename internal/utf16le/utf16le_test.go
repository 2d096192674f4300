package utf16le

import "testing"

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "share", "Grüße", "日本語", "emoji 😀 ok"} {
		b := Encode(s)
		if len(b) != EncodedLen(s) {
			t.Fatalf("%q: len %d, EncodedLen %d", s, len(b), EncodedLen(s))
		}
		if got := Decode(b); got != s {
			t.Fatalf("round trip %q -> %q", s, got)
		}
	}
	if got := Encode("A"); got[0] != 'A' || got[1] != 0 {
		t.Fatalf("not little-endian: % x", got)
	}
}
