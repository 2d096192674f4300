package smbcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.Join(strings.Fields(s), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eqHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if !bytes.EqualFold([]byte(hex.EncodeToString(got)), []byte(strings.Join(strings.Fields(want), ""))) {
		t.Errorf("%s = %X, want %s", what, got, want)
	}
}

// Vectors from Microsoft's Open Specifications blog posts:
//   - [anatomy] "SMB 2 and SMB 3 security in Windows 10: the anatomy of
//     signing and cryptographic keys" (2017-05-26), appendix "Key derivation
//     examples", SMB 3.0 and SMB 3.1.1 multichannel, first channel.
//   - [enc30] "Encryption in SMB 3.0: A protocol perspective" (2012-10-05).
//   - [enc311] "SMB 3.1.1 Encryption in Windows 10" (2015-09-09).
//
// The blogs name keys from the client's side; the server's EncryptionKey is
// the client's DecryptionKey and vice versa.

// The SMB 3.1.1 session of [anatomy]: the NEGOTIATE and SESSION_SETUP
// exchange that feeds the pre-authentication integrity hash, with the hash
// after each message, and the final SESSION_SETUP response, signed.
var anatomy311 = []struct{ msg, hash string }{
	{ // NEGOTIATE request
		`FE534D4240000100000000000000800000000000000000000100000000000000FFFE000000000000
		00000000000000000000000000000000000000000000000024000500000000003F000000ECD86F32
		6276024F9F7752B89BB33F3A70000000020000000202100200030203110300000100260000000000
		010020000100FA49E6578F1F3A9F4CD3E9CC14A67AA884B3D05844E0E5A118225C15887F32FF0000
		0200060000000000020002000100`,
		`DD94EFC5321BB618A2E208BA8920D2F422992526947A409B5037DE1E0FE8C7362B8C47122594CDE0
		CE26AA9DFC8BCDBDE0621957672623351A7540F1E54A0426`},
	{ // NEGOTIATE response
		`FE534D4240000100000000000000010001000000000000000100000000000000FFFE000000000000
		000000000000000000000000000000000000000000000000410001001103020039CBCAF329714942
		BDCE5D60F09AB3FB2F000000000080000000800000008000D8DAE5ADCBAED00109094AB095AED001
		80004001C00100006082013C06062B0601050502A08201303082012CA01A3018060A2B0601040182
		3702021E060A2B06010401823702020AA282010C048201084E45474F455854530100000000000000
		60000000700000007C7CC0FD06D6362D02DDE1CF343BFE292900F49750B4AA97934D9C4296B26E51
		FD370471B235E15A50DAE15BD5489C87000000000000000060000000010000000000000000000000
		5C33530DEAF90D4DB2EC4AE3786EC3084E45474F4558545303000000010000004000000098000000
		7C7CC0FD06D6362D02DDE1CF343BFE295C33530DEAF90D4DB2EC4AE3786EC3084000000058000000
		3056A05430523027802530233121301F06035504031318546F6B656E205369676E696E6720507562
		6C6963204B65793027802530233121301F06035504031318546F6B656E205369676E696E67205075
		626C6963204B6579010026000000000001002000010060A3C3B95C3C7CCD51EC536648D9B3AC74C4
		83CA5B65385A251117BEB30712E50000020004000000000001000200`,
		`324BFA92A4F3A190E466EBEA08D9C110DC88BFED758D9846ECC6F541CC1D02AE3C94A79F36011E99
		7E13F841B91B50957AD07B19C8E2539C0B23FDAE09D2C513`},
	{ // SESSION_SETUP request 1
		`FE534D4240000100000000000100800000000000000000000200000000000000FFFE000000000000
		00000000000000000000000000000000000000000000000019000001010000000000000058004A00
		0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A
		04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000
		000F`,
		`AC0B0F2B9986257700365E416D142A6EDC96DF03594A19E52A15F6BD0D041CD5D432F8ED42C55E33
		197A50C9EC00F1462B50C592211B1471A04B56088FDFD5F9`},
	{ // SESSION_SETUP response 1 (STATUS_MORE_PROCESSING_REQUIRED)
		`FE534D4240000100160000C00100010001000000000000000200000000000000FFFE000000000000
		190000000010000000000000000000000000000000000000090000004800B300A181B03081ADA003
		0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038
		00000015828AE20D1D8BA31179D008000000000000000050005000440000000A0092270000000F53
		005500540033003100310002000C0053005500540033003100310001000C00530055005400330031
		00310004000C0053005500540033003100310003000C0053005500540033003100310007000800A1
		A1F5ADCBAED00100000000`,
		`2729E3440DFDDD839E37193F6E8F20C20CEFB3469E453A70CD980EEC06B8835740A7376008563336
		4C8989895ECE81BF102DEEB14D4B7D48AFA76901A7A38387`},
	{ // SESSION_SETUP request 2
		`FE534D4240000100000000000100800000000000000000000300000000000000FFFE000000000000
		1900000000100000000000000000000000000000000000001900000101000000000000005800CF01
		0000000000000000A18201CB308201C7A0030A0101A28201AA048201A64E544C4D53535000030000
		001800180090000000EE00EE00A80000000C000C00580000001A001A0064000000120012007E0000
		001000100096010000158288E2060380250000000FECAC77A5F385A8BF9C38C706EEEDDCD3530055
		005400330031003100610064006D0069006E006900730074007200610074006F0072004400520049
		0056004500520033003100310000000000000000000000000000000000000000000000000063078E
		B639FE03E20A231C3AE3BF23080101000000000000A1A1F5ADCBAED001BC4AD05F223CC90F000000
		0002000C0053005500540033003100310001000C0053005500540033003100310004000C00530055
		00540033003100310003000C0053005500540033003100310007000800A1A1F5ADCBAED001060004
		00020000000800300030000000000000000000000000300000B61FEFCAA857EA57BF1EDCEBF8974B
		8E0EBA5A6DFD9D07A31D11B548F8C9D0CC0A00100000000000000000000000000000000000090016
		0063006900660073002F005300550054003300310031000000000000000000000000003B9BDFF38F
		5EE8F9663F11A0F4C03A78A31204100100000063775A9A5FD97F0600000000`,
		`0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB7928622DDDAD522D97
		51640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01`},
}

// The final SESSION_SETUP response of [anatomy], signed by Windows with the
// 3.1.1 SigningKey (AES-CMAC; signature EBE146DA120BA25FC3376A49DFE31BC1).
const anatomySignedResponse = `FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000
	1900000000100000EBE146DA120BA25FC3376A49DFE31BC10900000048001D00A11B3019A0030A01
	00A3120410010000003B453CDC3524164200000000`

func TestPreauthHashAnatomy(t *testing.T) {
	var h PreauthHash
	for i, step := range anatomy311 {
		h.Update(unhex(t, step.msg))
		eqHex(t, "hash after message "+string(rune('1'+i)), h[:], step.hash)
	}
}

func TestDeriveKeys30Anatomy(t *testing.T) {
	k := DeriveKeys(Dialect300, unhex(t, "7CD451825D0450D235424E44BA6E78CC"), nil, 0)
	eqHex(t, "SessionKey", k.SessionKey, "7CD451825D0450D235424E44BA6E78CC")
	eqHex(t, "SigningKey", k.SigningKey, "0B7E9C5CAC36C0F6EA9AB275298CEDCE")
	eqHex(t, "EncryptionKey (server)", k.EncryptionKey, "B0F0427F7CEB416D1D9DCC0CD4F99447")
	eqHex(t, "DecryptionKey (server)", k.DecryptionKey, "FAD27796665B313EBB578F388632B4F7")
	eqHex(t, "ApplicationKey", k.ApplicationKey, "BB23A4575AA26C721AF525AF15A87B4F")
	// Second channel: only its signing key is new.
	k2 := DeriveKeys(Dialect302, unhex(t, "4E01A2B313BCF660CC250BEF021AEDE6"), nil, AES128CCM)
	eqHex(t, "binding SigningKey", k2.SigningKey, "BA1A17DBBFEC349BCA105563D598952F")
}

func TestDeriveKeys311Anatomy(t *testing.T) {
	var h PreauthHash
	for _, step := range anatomy311 {
		h.Update(unhex(t, step.msg))
	}
	k := DeriveKeys(Dialect311, unhex(t, "270E1BA896585EEB7AF3472D3B4C75A7"), h[:], AES128GCM)
	eqHex(t, "SigningKey", k.SigningKey, "73FE7A9A77BEF0BDE49C650D8CCB5F76")
	eqHex(t, "EncryptionKey (server)", k.EncryptionKey, "E2AF0DCEFAC68DA71A0DFBD0D1350D74")
	eqHex(t, "DecryptionKey (server)", k.DecryptionKey, "629BCBC54422A0F572B97F45989B6073")
	eqHex(t, "ApplicationKey", k.ApplicationKey, "6D7AD7954E9EC61E907B4D473DC178FF")

	// Windows signed the final SESSION_SETUP response with that key.
	s, err := NewSigner(SigningAESCMAC, k.SigningKey)
	if err != nil {
		t.Fatal(err)
	}
	resp := unhex(t, anatomySignedResponse)
	if !s.Verify(resp) {
		t.Fatal("Windows' signature does not verify")
	}
	if !bytes.Equal(resp, unhex(t, anatomySignedResponse)) {
		t.Fatal("Verify changed the message")
	}
	mine := unhex(t, anatomySignedResponse)
	clear(mine[48:64])
	binary.LittleEndian.PutUint32(mine[16:], 0x1) // SIGNED flag cleared: Sign sets it
	if err := s.Sign(mine); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mine, resp) {
		t.Fatalf("Sign = %X\nwant   %X", mine, resp)
	}
	resp[70] ^= 1
	if s.Verify(resp) {
		t.Fatal("tampered message verifies")
	}
}

func TestDeriveKeys2x(t *testing.T) {
	for _, d := range []uint16{Dialect202, Dialect210} {
		k := DeriveKeys(d, unhex(t, "00112233445566778899aabbccddeeff0011"), nil, 0)
		eqHex(t, "SessionKey", k.SessionKey, "00112233445566778899aabbccddeeff")
		eqHex(t, "SigningKey", k.SigningKey, "00112233445566778899aabbccddeeff")
		eqHex(t, "ApplicationKey", k.ApplicationKey, "00112233445566778899aabbccddeeff")
		if k.EncryptionKey != nil || k.DecryptionKey != nil {
			t.Errorf("%#x: encryption keys derived", d)
		}
	}
	// A short key is right-padded (MS-SMB2 3.3.1.8).
	eqHex(t, "padded", SessionKey([]byte{1, 2}), "01020000000000000000000000000000")
}

// TestDeriveKeys311AES256 uses a 32-byte (Kerberos-like) session key.
// Expected values were computed independently with python3 hmac/hashlib
// (no published vector covers AES-256): the cipher keys come from the full
// key with L = 256, the signing and application keys from its first 16
// bytes with L = 128.
func TestDeriveKeys311AES256(t *testing.T) {
	full := make([]byte, 32)
	for i := range full {
		full[i] = byte(0x40 + i)
	}
	pa := unhex(t, anatomy311[len(anatomy311)-1].hash)
	for _, c := range []uint16{AES256CCM, AES256GCM} {
		k := DeriveKeys(Dialect311, full, pa, c)
		eqHex(t, "SigningKey", k.SigningKey, "31b3bc2abdd23eab120b25a2fbfa1fde")
		eqHex(t, "ApplicationKey", k.ApplicationKey, "ea6c98ea4d1ae95b80bdd1b4c1d9808f")
		eqHex(t, "EncryptionKey", k.EncryptionKey, "fa2f15537c8e6d5571ed417a1308f66531d413e095d2567130feb6c9e20e4582")
		eqHex(t, "DecryptionKey", k.DecryptionKey, "2a484ff37b62e1e7b2c7732ca18174cd6e3e6c8dafdba5abd1b22fcb66717662")
		if _, err := NewCipher(c, k.EncryptionKey); err != nil {
			t.Fatal(err)
		}
	}
}

// testMsg builds the SMB2 message that the KAT values were computed over
// with python3: a header with the given Command, Flags and MessageId and a
// body of bodyLen bytes (i*7+3) mod 251.
func testMsg(cmd uint16, flags uint32, mid uint64, bodyLen int) []byte {
	m := make([]byte, 64+bodyLen)
	copy(m, "\xfeSMB")
	le := binary.LittleEndian
	le.PutUint16(m[4:], 64)
	le.PutUint16(m[6:], 1)
	le.PutUint16(m[12:], cmd)
	le.PutUint16(m[14:], 1)
	le.PutUint32(m[16:], flags)
	le.PutUint64(m[24:], mid)
	le.PutUint32(m[32:], 0xfeff)
	le.PutUint32(m[36:], 1)
	le.PutUint64(m[40:], 0x100000000019)
	for i := range bodyLen {
		m[64+i] = byte((i*7 + 3) % 251)
	}
	return m
}

// TestSignKnownAnswer checks each algorithm against a value computed
// independently: HMAC-SHA256 with python3 hmac, AES-GMAC with python3
// cryptography's AESGCM (empty plaintext, message as AAD), and AES-GMAC
// again against crypto/cipher's GCM directly.
func TestSignKnownAnswer(t *testing.T) {
	key := unhex(t, "73FE7A9A77BEF0BDE49C650D8CCB5F76")
	for _, c := range []struct {
		name  string
		alg   uint16
		cmd   uint16
		flags uint32
		mid   uint64
		body  int
		want  string
		role  uint32 // GMAC nonce's last 4 bytes
	}{
		{"HMAC-SHA256 response", SigningHMACSHA256, 8, 1, 5, 100, "6385a87b395fac151bb61257e09897cb", 0},
		{"AES-GMAC response", SigningAESGMAC, 8, 1, 0x1122334455667788, 100, "26043d42fcb78f1811cb64dbf9cf6cb3", 1},
		{"AES-GMAC cancel request", SigningAESGMAC, 0x0c, 0, 42, 4, "2814b69ce86c63e3ecb4132956b4ce2a", 2},
	} {
		s, err := NewSigner(c.alg, key)
		if err != nil {
			t.Fatal(err)
		}
		m := testMsg(c.cmd, c.flags, c.mid, c.body)
		if err := s.Sign(m); err != nil {
			t.Fatal(err)
		}
		eqHex(t, c.name, m[48:64], c.want)
		if m[16]&0x08 == 0 {
			t.Errorf("%s: SIGNED flag not set", c.name)
		}
		if !s.Verify(m) {
			t.Errorf("%s: own signature does not verify", c.name)
		}
		if c.alg == SigningAESGMAC {
			b, _ := aes.NewCipher(key)
			g, _ := cipher.NewGCM(b)
			var nonce [12]byte
			binary.LittleEndian.PutUint64(nonce[:], c.mid)
			binary.LittleEndian.PutUint32(nonce[8:], c.role)
			z := append([]byte(nil), m...)
			clear(z[48:64])
			if tag := g.Seal(nil, nonce[:], nil, z); !bytes.Equal(tag, m[48:64]) {
				t.Errorf("%s: crypto/cipher GCM gives %X", c.name, tag)
			}
		}
	}
}

// CMAC signing follows RFC 4493: the signature is AES-CMAC of the message
// with a zero Signature field (checked against Windows above, and here
// against the cmac package on a long message).
func TestSignRoundTrip(t *testing.T) {
	key := unhex(t, "000102030405060708090a0b0c0d0e0f")
	for _, alg := range []uint16{SigningHMACSHA256, SigningAESCMAC, SigningAESGMAC} {
		s, err := NewSigner(alg, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 15, 16, 17, 1000, 65536} {
			m := testMsg(8, 1, uint64(n), n)
			if err := s.Sign(m); err != nil {
				t.Fatal(err)
			}
			if !s.Verify(m) {
				t.Fatalf("alg %d len %d: does not verify", alg, n)
			}
			for _, i := range []int{0, 16, 24, 47, 48, 63, 64 + n/2, len(m) - 1} {
				if i >= len(m) {
					continue
				}
				m[i] ^= 0x80
				if s.Verify(m) {
					t.Fatalf("alg %d len %d: flipped byte %d verifies", alg, n, i)
				}
				m[i] ^= 0x80
			}
			if !s.Verify(m) {
				t.Fatalf("alg %d len %d: Verify did not restore the message", alg, n)
			}
		}
		// Another key must not verify.
		other, _ := NewSigner(alg, unhex(t, "ff0102030405060708090a0b0c0d0e0f"))
		m := testMsg(8, 1, 1, 10)
		s.Sign(m)
		if other.Verify(m) {
			t.Fatalf("alg %d: wrong key verifies", alg)
		}
		// Short and foreign inputs: errors, not panics.
		for _, bad := range [][]byte{nil, make([]byte, 63), make([]byte, 64)} {
			if s.Sign(bad) == nil || s.Verify(bad) {
				t.Fatalf("alg %d: bad input of %d bytes accepted", alg, len(bad))
			}
		}
	}
	if _, err := NewSigner(3, key); err == nil {
		t.Fatal("unknown algorithm accepted")
	}
	if _, err := NewSigner(SigningAESCMAC, key[:15]); err == nil {
		t.Fatal("15-byte CMAC key accepted")
	}
}

func TestSigningAlgorithm(t *testing.T) {
	for _, c := range []struct {
		d          uint16
		neg        uint16
		negotiated bool
		want       uint16
	}{
		{Dialect202, 0, false, SigningHMACSHA256},
		{Dialect210, 2, true, SigningHMACSHA256},
		{Dialect300, 2, true, SigningAESCMAC},
		{Dialect302, 0, false, SigningAESCMAC},
		{Dialect311, 0, false, SigningAESCMAC},
		{Dialect311, SigningAESGMAC, true, SigningAESGMAC},
		{Dialect311, SigningHMACSHA256, true, SigningHMACSHA256},
	} {
		if got := SigningAlgorithm(c.d, c.neg, c.negotiated); got != c.want {
			t.Errorf("SigningAlgorithm(%#x, %d, %v) = %d", c.d, c.neg, c.negotiated, got)
		}
	}
}

func TestSignAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for _, alg := range []uint16{SigningHMACSHA256, SigningAESCMAC, SigningAESGMAC} {
		s, _ := NewSigner(alg, make([]byte, 16))
		m := testMsg(8, 1, 1, 4096)
		s.Sign(m)
		if n := testing.AllocsPerRun(100, func() { s.Sign(m); s.Verify(m) }); n != 0 {
			t.Errorf("alg %d: Sign+Verify allocate %v times", alg, n)
		}
	}
}
