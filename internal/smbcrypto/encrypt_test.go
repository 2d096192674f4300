package smbcrypto

import (
	"bytes"
	"testing"
)

// The encryption examples of [enc30] (SMB 3.0, AES-128-CCM) and [enc311]
// (SMB 3.1.1, AES-128-GCM): a WRITE request the client encrypted and the
// server's encrypted response, each as plaintext and transform message.
var encVectors = []struct {
	name                  string
	dialect, cipher       uint16
	sessionKey, preauth   string
	clientEncKey          string // the server's DecryptionKey
	clientDecKey          string // the server's EncryptionKey
	reqPlain, reqTransfrm string
	rspPlain, rspTransfrm string
}{
	{
		name: "3.0 AES-128-CCM", dialect: Dialect300, cipher: AES128CCM,
		sessionKey:   "B4546771B515F766A86735532DD6C4F0",
		clientEncKey: "261B72350558F2E9DCF613070383EDBF",
		clientDecKey: "8FE2B57EC34D2DB5B1A9727F526BBDB5",
		reqPlain: `FE534D4240000100000000000900400008000000000000000400000000000000
			FFFE0000010000001100001400E4080000000000000000000000000000000000
			3100700017000000000000000000000015010000390000020100000039020000
			00000000000000007000000000000000536D623320656E6372797074696F6E20
			74657374696E67`,
		reqTransfrm: `FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A
			744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5
			2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4
			4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5
			AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6
			C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB`,
		rspPlain: `FE534D4240000100000000000900210009000000000000000400000000000000
			FFFE0000010000001100001400E4080000000000000000000000000000000000
			11000000170000000000000000000000`,
		rspTransfrm: `FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014
			00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079
			E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787
			1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1
			77309E5B`,
	},
	{
		name: "3.1.1 AES-128-GCM", dialect: Dialect311, cipher: AES128GCM,
		sessionKey: "419FDDF34C1E001909D362AE7FB6AF79",
		preauth: `B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDBA7DB256BA2EA30E9
			77F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770`,
		clientEncKey: "A2F5E80E5D59103034F32E52F698E5EC",
		clientDecKey: "748C50868C90F302962A5C35F5F9A8BF",
		reqPlain: `FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000
			25000000001000000000000000000000000000000000000031007000170000000000000000000000
			0600000004000000010000000400000000000000000000007000000000000000536D623320656E63
			72797074696F6E2074657374696E67`,
		reqTransfrm: `FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C0000000087000000
			0000010025000000001000006ECDD2A7AFC7B47763057A041B8FD4DAFFE990B70C9E09D36C084E02
			D14EF247F8BDE38ACF6256F8B1D3B56F77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A394BB4
			4576545567C24D4C014D47C9FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C13A19E9
			1AF013F00D17E3ABC2FC3D36C8C1B6B93973253852DBD442E46EE8`,
		rspPlain: `FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000
			25000000001000000000000000000000000000000000000011000000170000000000000000000000`,
		rspTransfrm: `FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B4000000000000000050000000
			00000100250000000010000026BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32A2A0B8
			F2D793A815C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA6179159B
			82E03C9E18A050FF0EA1C967`,
	},
}

func TestEncryptionVectors(t *testing.T) {
	for _, v := range encVectors {
		t.Run(v.name, func(t *testing.T) {
			var pa []byte
			if v.preauth != "" {
				pa = unhex(t, v.preauth)
			}
			k := DeriveKeys(v.dialect, unhex(t, v.sessionKey), pa, v.cipher)
			eqHex(t, "DecryptionKey", k.DecryptionKey, v.clientEncKey)
			eqHex(t, "EncryptionKey", k.EncryptionKey, v.clientDecKey)
			dec, err := NewCipher(v.cipher, k.DecryptionKey)
			if err != nil {
				t.Fatal(err)
			}
			enc, _ := NewCipher(v.cipher, k.EncryptionKey)

			for _, c := range []struct {
				what         string
				ci           *Cipher
				plain, trans string
			}{
				{"request", dec, v.reqPlain, v.reqTransfrm},
				{"response", enc, v.rspPlain, v.rspTransfrm},
			} {
				plain, trans := unhex(t, c.plain), unhex(t, c.trans)
				// Decrypt, with and without spare capacity after the message.
				for _, spare := range []int{0, 16} {
					buf := make([]byte, len(trans), len(trans)+spare)
					copy(buf, trans)
					got, err := c.ci.Decrypt(buf)
					if err != nil {
						t.Fatalf("%s: Decrypt (spare %d): %v", c.what, spare, err)
					}
					if !bytes.Equal(got, plain) {
						t.Fatalf("%s: Decrypt = %X", c.what, got)
					}
				}
				// Encrypt with the vector's nonce gives its bytes exactly.
				out := make([]byte, len(trans))
				copy(out[offTfNonce:offTfNonce+16], trans[offTfNonce:offTfNonce+16])
				copy(out[offTfSessionID:], trans[offTfSessionID:offTfSessionID+8])
				if err := c.ci.encrypt(out[TransformHeaderSize:], out[:TransformHeaderSize], plain); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, trans) {
					t.Fatalf("%s: encrypt = %X\nwant      %X", c.what, out, trans)
				}
			}
		})
	}
}

var allCiphers = []uint16{AES128CCM, AES128GCM, AES256CCM, AES256GCM}

func keyFor(id uint16) []byte {
	n := 16
	if id == AES256CCM || id == AES256GCM {
		n = 32
	}
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i + 1)
	}
	return k
}

// sealMsg encrypts m in place in a buffer laid out as the writer would:
// 52-byte header, then the message, with spare capacity after it.
func sealMsg(t testing.TB, c *Cipher, m []byte, spare int) []byte {
	buf := make([]byte, TransformHeaderSize+len(m), TransformHeaderSize+len(m)+spare)
	copy(buf[TransformHeaderSize:], m)
	buf[44] = 0x19 // SessionId
	if err := c.Encrypt(buf[TransformHeaderSize:], buf[:TransformHeaderSize], buf[TransformHeaderSize:]); err != nil {
		t.Fatal(err)
	}
	return buf
}

func TestCipherRoundTrip(t *testing.T) {
	for _, id := range allCiphers {
		c, err := NewCipher(id, keyFor(id))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 64, 100, 1023, 1024, 65536} {
			for _, spare := range []int{0, 16, 100} {
				m := testMsg(8, 1, 7, n)
				buf := sealMsg(t, c, m, spare)
				tail := buf[len(buf) : len(buf)+spare]
				for i := range tail {
					tail[i] = 0xAA
				}
				if sid, err := TransformSessionID(buf); err != nil || sid != 0x19 {
					t.Fatalf("TransformSessionID = %#x, %v", sid, err)
				}
				if n > 0 && bytes.Equal(buf[TransformHeaderSize:], m) {
					t.Fatal("not encrypted")
				}
				got, err := c.Decrypt(buf)
				if err != nil || !bytes.Equal(got, m) {
					t.Fatalf("cipher %d len %d spare %d: %v", id, n, spare, err)
				}
				for _, b := range tail {
					if b != 0xAA {
						t.Fatalf("cipher %d: bytes after the message changed", id)
					}
				}
			}
		}
		// Nonces: random, within the cipher's size, the rest zero.
		a := sealMsg(t, c, testMsg(8, 1, 7, 10), 0)
		b := sealMsg(t, c, testMsg(8, 1, 7, 10), 0)
		if bytes.Equal(a[20:36], b[20:36]) {
			t.Fatal("nonce repeated")
		}
		ns := 11
		if id == AES128GCM || id == AES256GCM {
			ns = 12
		}
		for _, x := range a[20+ns : 36] {
			if x != 0 {
				t.Fatalf("cipher %d: nonce padding not zero: %X", id, a[20:36])
			}
		}
		if a[42] != 1 || a[43] != 0 || a[36] != 74 {
			t.Fatalf("cipher %d: header fields wrong: %X", id, a[:52])
		}
	}
}

func TestCipherTamper(t *testing.T) {
	for _, id := range allCiphers {
		c, _ := NewCipher(id, keyFor(id))
		m := testMsg(8, 1, 7, 200)
		good := sealMsg(t, c, m, 16)
		// Every byte but the ProtocolId is covered: signature (tag), nonce,
		// size, reserved, flags and session id (AAD), ciphertext.
		for i := 4; i < len(good); i++ {
			bad := append(make([]byte, 0, len(good)+16), good...)
			bad[i] ^= 0x01
			if _, err := c.Decrypt(bad); err == nil {
				t.Fatalf("cipher %d: flipped byte %d accepted", id, i)
			}
		}
		bad := append([]byte(nil), good...)
		bad[0] = 0xFE
		if _, err := c.Decrypt(bad); err != ErrNotTransform {
			t.Fatalf("cipher %d: ProtocolId: %v", id, err)
		}
		// Wrong key.
		k := keyFor(id)
		k[0] ^= 1
		other, _ := NewCipher(id, k)
		if _, err := other.Decrypt(append([]byte(nil), good...)); err == nil {
			t.Fatalf("cipher %d: wrong key accepted", id)
		}
		// Short input and a truncated message.
		for _, n := range []int{0, 4, 51, 52, len(good) - 1} {
			if _, err := c.Decrypt(append([]byte(nil), good[:n]...)); err == nil {
				t.Fatalf("cipher %d: %d-byte input accepted", id, n)
			}
		}
		if err := c.Encrypt(nil, make([]byte, 51), nil); err == nil {
			t.Fatalf("cipher %d: short header accepted", id)
		}
		if err := c.Encrypt(make([]byte, 3), make([]byte, 52), make([]byte, 4)); err == nil {
			t.Fatalf("cipher %d: short dst accepted", id)
		}
	}
	if _, err := NewCipher(AES256GCM, make([]byte, 16)); err == nil {
		t.Fatal("16-byte key for AES-256 accepted")
	}
	if _, err := NewCipher(9, make([]byte, 16)); err == nil {
		t.Fatal("unknown cipher accepted")
	}
}

func TestCipherAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	for _, id := range allCiphers {
		c, _ := NewCipher(id, keyFor(id))
		buf := make([]byte, TransformHeaderSize+512, TransformHeaderSize+512+16)
		buf[4] = 0xFE // leave a non-message in place; Encrypt overwrites
		n := testing.AllocsPerRun(100, func() {
			if err := c.Encrypt(buf[52:], buf[:52], buf[52:]); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Decrypt(buf); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("cipher %d: Encrypt+Decrypt of 512 bytes allocate %v times", id, n)
		}
	}
}
