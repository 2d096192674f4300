package smb1

import (
	"slices"
	"testing"
)

// negotiate builds an SMB_COM_NEGOTIATE request offering dialects.
func negotiate(dialects ...string) []byte {
	msg := make([]byte, HeaderSize)
	copy(msg, ProtocolID[:])
	msg[4] = CommandNegotiate
	var b []byte
	for _, d := range dialects {
		b = append(b, 0x02)
		b = append(b, d...)
		b = append(b, 0)
	}
	msg = append(msg, 0, byte(len(b)), byte(len(b)>>8))
	return append(msg, b...)
}

func TestParseNegotiate(t *testing.T) {
	want := []string{"NT LM 0.12", "SMB 2.002", "SMB 2.???"}
	got, err := ParseNegotiate(negotiate(want...))
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	bad := negotiate("NT LM 0.12")
	if _, err := ParseNegotiate(bad[:len(bad)-1]); err == nil {
		t.Fatal("accepted a truncated request")
	}
	bad = negotiate("x")
	bad[4] = 0x73
	if _, err := ParseNegotiate(bad); err == nil {
		t.Fatal("accepted another command")
	}
}

func FuzzParseNegotiate(f *testing.F) {
	f.Add(negotiate("NT LM 0.12", "SMB 2.002", "SMB 2.???"))
	f.Add(negotiate())
	f.Add([]byte{0xFF, 'S', 'M', 'B'})
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseNegotiate(b)
	})
}
