package cmac

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 4493 section 4: key, subkeys and the four examples.
const (
	rfcKey = "2b7e151628aed2a6abf7158809cf4f3c"
	rfcMsg = "6bc1bee22e409f96e93d7e117393172a" +
		"ae2d8a571e03ac9c9eb76fac45af8e51" +
		"30c81c46a35ce411e5fbc1191a0a52ef" +
		"f69f2445df4f9b17ad2b417be66c3710"
)

var rfcExamples = []struct {
	n   int // message length in bytes
	tag string
}{
	{0, "bb1d6929e95937287fa37d129b756746"},
	{16, "070a16b46b4d4144f79bdd9dd04a287c"},
	{40, "dfa66747de9ae63030ca32611497c827"},
	{64, "51f0bebf7e3b9d92fc49741779363cfe"},
}

func TestSubkeysRFC4493(t *testing.T) {
	k, err := NewAESKey(unhex(t, rfcKey))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(k.k1[:]), "fbeed618357133667c85e08f7236a8de"; got != want {
		t.Errorf("K1 = %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(k.k2[:]), "f7ddac306ae266ccf90bc11ee46d513b"; got != want {
		t.Errorf("K2 = %s, want %s", got, want)
	}
}

func TestExamplesRFC4493(t *testing.T) {
	key := unhex(t, rfcKey)
	msg := unhex(t, rfcMsg)
	for _, ex := range rfcExamples {
		got, err := Sum(key, msg[:ex.n])
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got[:]) != ex.tag {
			t.Errorf("len %d: got %x, want %s", ex.n, got, ex.tag)
		}
	}
}

// TestStreaming feeds every example in every split into two writes and in
// one-byte writes; the result must not depend on how the message is cut.
func TestStreaming(t *testing.T) {
	k, _ := NewAESKey(unhex(t, rfcKey))
	msg := unhex(t, rfcMsg)
	for _, ex := range rfcExamples {
		want := unhex(t, ex.tag)
		m := msg[:ex.n]
		for cut := 0; cut <= len(m); cut++ {
			d := k.New()
			d.Write(m[:cut])
			d.Write(m[cut:])
			if got := d.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("len %d cut %d: got %x", ex.n, cut, got)
			}
		}
		d := k.New()
		for i := range m {
			d.Write(m[i : i+1])
		}
		if got := d.Sum(nil); !bytes.Equal(got, want) {
			t.Fatalf("len %d bytewise: got %x", ex.n, got)
		}
		// Sum must not disturb the state.
		d.Sum(nil)
		if got := d.Sum(nil); !bytes.Equal(got, want) {
			t.Fatalf("len %d second Sum: got %x", ex.n, got)
		}
		d.Reset()
		d.Write(m)
		if got := d.Sum(nil); !bytes.Equal(got, want) {
			t.Fatalf("len %d after Reset: got %x", ex.n, got)
		}
	}
}

func TestBadKey(t *testing.T) {
	if _, err := Sum(make([]byte, 15), nil); err == nil {
		t.Fatal("15-byte key accepted")
	}
}

func TestKeySumAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	k, _ := NewAESKey(unhex(t, rfcKey))
	msg := make([]byte, 4096)
	if n := testing.AllocsPerRun(100, func() { k.Sum(msg) }); n != 0 {
		t.Errorf("Key.Sum allocates %v times", n)
	}
}

func BenchmarkSum1MiB(b *testing.B) {
	k, _ := NewAESKey(make([]byte, 16))
	msg := make([]byte, 1<<20)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		k.Sum(msg)
	}
}
