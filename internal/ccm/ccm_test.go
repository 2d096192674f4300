package ccm

import (
	"bytes"
	"crypto/aes"
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

type vector struct {
	name                       string
	key, nonce, ad, pt, ctWant string // ctWant is ciphertext || tag
	tagSize                    int
}

// adC4 is the 65536-byte associated data of SP 800-38C example C.4: the
// bytes 00 01 .. ff repeated.
func adC4() string {
	b := make([]byte, 65536)
	for i := range b {
		b[i] = byte(i)
	}
	return hex.EncodeToString(b)
}

var vectors = []vector{
	// NIST SP 800-38C appendix C.
	{"SP800-38C C.1", "404142434445464748494a4b4c4d4e4f", "10111213141516", "0001020304050607",
		"20212223", "7162015b4dac255d", 4},
	{"SP800-38C C.2", "404142434445464748494a4b4c4d4e4f", "1011121314151617", "000102030405060708090a0b0c0d0e0f",
		"202122232425262728292a2b2c2d2e2f", "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd", 6},
	{"SP800-38C C.3", "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b", "000102030405060708090a0b0c0d0e0f10111213",
		"202122232425262728292a2b2c2d2e2f3031323334353637", "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951", 8},
	{"SP800-38C C.4", "404142434445464748494a4b4c4d4e4f", "101112131415161718191a1b1c", adC4(),
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
		"69915dad1e84c6376a68c2967e4dab615ae0fd1faec44cc484828529463ccf72b4ac6bec93e8598e7f0dadbcea5b", 14},
	// RFC 3610 section 8, packet vectors #1 and #2 (the first 8 bytes of
	// each packet are the associated data).
	{"RFC3610 #1", "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000003020100a0a1a2a3a4a5", "0001020304050607",
		"08090a0b0c0d0e0f101112131415161718191a1b1c1d1e", "588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0", 8},
	{"RFC3610 #2", "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000004030201a0a1a2a3a4a5", "0001020304050607",
		"08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3ba091d56e10400916", 8},
	// SMB parameters (11-byte nonce, 16-byte tag). Expected values computed
	// independently with python3 cryptography (OpenSSL) AESCCM.
	{"SMB empty", "000102030405060708090a0b0c0d0e0f", "101112131415161718191a", "",
		"", smbEmpty, 16},
	{"SMB 40/20", "000102030405060708090a0b0c0d0e0f", "101112131415161718191a", "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627", smb4020, 16},
	{"SMB AES-256", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "101112131415161718191a",
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30", smb256, 16},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			b, err := aes.NewCipher(unhex(t, v.key))
			if err != nil {
				t.Fatal(err)
			}
			nonce := unhex(t, v.nonce)
			a, err := NewCCM(b, len(nonce), v.tagSize)
			if err != nil {
				t.Fatal(err)
			}
			pt, ad, want := unhex(t, v.pt), unhex(t, v.ad), unhex(t, v.ctWant)
			got := a.Seal(nil, nonce, pt, ad)
			if !bytes.Equal(got, want) {
				t.Fatalf("Seal = %x\nwant   %x", got, want)
			}
			back, err := a.Open(nil, nonce, got, ad)
			if err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("Open = %x, %v", back, err)
			}
			// In place, both ways.
			buf := append([]byte(nil), pt...)
			buf = a.Seal(buf[:0], nonce, buf, ad)
			if !bytes.Equal(buf, want) {
				t.Fatalf("in-place Seal = %x", buf)
			}
			out, err := a.Open(buf[:0], nonce, buf, ad)
			if err != nil || !bytes.Equal(out, pt) {
				t.Fatalf("in-place Open = %x, %v", out, err)
			}
		})
	}
}

func TestTamper(t *testing.T) {
	b, _ := aes.NewCipher(make([]byte, 16))
	a, _ := NewSMB(b)
	nonce := make([]byte, SMBNonceSize)
	ad := []byte("associated data")
	pt := bytes.Repeat([]byte("plain"), 20)
	ct := a.Seal(nil, nonce, pt, ad)
	for i := range ct {
		bad := append([]byte(nil), ct...)
		bad[i] ^= 0x01
		if _, err := a.Open(nil, nonce, bad, ad); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
	if _, err := a.Open(nil, nonce, ct, []byte("other data")); err == nil {
		t.Fatal("wrong AAD accepted")
	}
	nonce2 := append([]byte(nil), nonce...)
	nonce2[0] = 1
	if _, err := a.Open(nil, nonce2, ct, ad); err == nil {
		t.Fatal("wrong nonce accepted")
	}
	// Failed in-place Open must not leave plaintext behind.
	bad := append([]byte(nil), ct...)
	bad[len(bad)-1] ^= 1
	if _, err := a.Open(bad[:0], nonce, bad, ad); err == nil {
		t.Fatal("bad tag accepted")
	}
	if bytes.Contains(bad, []byte("plain")) {
		t.Fatal("plaintext left in buffer after failed Open")
	}
	// Short inputs are errors, not panics.
	for _, n := range []int{0, 1, 15} {
		if _, err := a.Open(nil, nonce, make([]byte, n), nil); err == nil {
			t.Fatalf("%d-byte ciphertext accepted", n)
		}
	}
	if _, err := a.Open(nil, nonce[:5], ct, ad); err == nil {
		t.Fatal("short nonce accepted")
	}
}

func TestParams(t *testing.T) {
	b, _ := aes.NewCipher(make([]byte, 16))
	for _, c := range []struct{ n, t int }{{6, 16}, {14, 16}, {11, 3}, {11, 5}, {11, 18}} {
		if _, err := NewCCM(b, c.n, c.t); err == nil {
			t.Errorf("NewCCM(%d, %d) accepted", c.n, c.t)
		}
	}
}

func TestRoundTripSizes(t *testing.T) {
	b, _ := aes.NewCipher(make([]byte, 32))
	a, _ := NewSMB(b)
	nonce := []byte("0123456789a")
	for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 127, 128, 129, 4096, 65537} {
		pt := make([]byte, n)
		for i := range pt {
			pt[i] = byte(i * 7)
		}
		for _, adn := range []int{0, 1, 13, 14, 15, 32, 65279, 65280} {
			ad := make([]byte, adn)
			ct := a.Seal(nil, nonce, pt, ad)
			got, err := a.Open(nil, nonce, ct, ad)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("n=%d ad=%d: %v", n, adn, err)
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	b, _ := aes.NewCipher(make([]byte, 16))
	a, _ := NewSMB(b)
	nonce := make([]byte, 11)
	buf := make([]byte, ctrStreamMin-1+16)
	pt := buf[:ctrStreamMin-1]
	n := testing.AllocsPerRun(100, func() {
		ct := a.Seal(pt[:0], nonce, pt, nil)
		a.Open(ct[:0], nonce, ct, nil)
	})
	if n != 0 {
		t.Errorf("Seal+Open allocate %v times", n)
	}
	// Large payloads take the stdlib CTR: one allocation per call.
	buf = make([]byte, 64<<10+16)
	pt = buf[:64<<10]
	n = testing.AllocsPerRun(100, func() {
		ct := a.Seal(pt[:0], nonce, pt, nil)
		a.Open(ct[:0], nonce, ct, nil)
	})
	if n > 2 {
		t.Errorf("large Seal+Open allocate %v times", n)
	}
}

func benchmark(b *testing.B, open bool) {
	blk, _ := aes.NewCipher(make([]byte, 16))
	a, _ := NewSMB(blk)
	nonce := make([]byte, 11)
	buf := make([]byte, 1<<20+16)
	ct := a.Seal(nil, nonce, buf[:1<<20], nil)
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if open {
			if _, err := a.Open(buf[:0], nonce, ct, nil); err != nil {
				b.Fatal(err)
			}
		} else {
			a.Seal(buf[:0], nonce, buf[:1<<20], nil)
		}
	}
}

func BenchmarkSeal1MiB(b *testing.B) { benchmark(b, false) }
func BenchmarkOpen1MiB(b *testing.B) { benchmark(b, true) }

// Expected SMB-parameter outputs, from python3 cryptography's AESCCM.
const (
	smbEmpty = "fbc611538f7736cb1c9b1c4edd4e2885"
	smb4020  = "4c6e7fd8c4b857ac8605e3682e6e90a13179ca4a5bc86cf8f2599c1881e5ccf529eb56996767494722b6955802223b1c23e86d2356ace8ff"
	smb256   = "275fed9b4bc31b0d677078aeee73db9333c2dd626882bb34b94b960a47df8dab8736bf0bae3b044754d7f321ee16fc39ad934058cf60c006e5cf88a0780baaa5e0"
)
