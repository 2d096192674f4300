package smbcrypto

import "testing"

// FuzzDecrypt feeds arbitrary bytes to Decrypt, which reads what clients
// send: it must return an error, never panic, for anything not sealed
// under the key.
func FuzzDecrypt(f *testing.F) {
	for _, id := range allCiphers {
		c, _ := NewCipher(id, keyFor(id))
		f.Add(uint8(id), sealMsg(f, c, testMsg(8, 1, 7, 40), 0))
	}
	f.Add(uint8(1), []byte{0xFD, 'S', 'M', 'B'})
	ciphers := map[uint16]*Cipher{}
	for _, id := range allCiphers {
		ciphers[id], _ = NewCipher(id, keyFor(id))
	}
	f.Fuzz(func(t *testing.T, id uint8, msg []byte) {
		c := ciphers[uint16(id%4)+1]
		orig := append([]byte(nil), msg...)
		if pt, err := c.Decrypt(msg); err == nil {
			// Only a genuine seal opens; re-sealing with its nonce must
			// give the input back.
			out := make([]byte, len(orig))
			copy(out, orig[:TransformHeaderSize])
			if err := c.encrypt(out[TransformHeaderSize:], out[:TransformHeaderSize], pt); err != nil || string(out) != string(orig) {
				t.Fatalf("opened a message that is not a seal of its plaintext")
			}
		}
	})
}

// FuzzVerify checks that Verify never panics and never accepts a message
// it did not sign.
func FuzzVerify(f *testing.F) {
	f.Add(testMsg(8, 1, 7, 10))
	f.Add([]byte("\xfeSMB"))
	var signers []*Signer
	for _, alg := range []uint16{SigningHMACSHA256, SigningAESCMAC, SigningAESGMAC} {
		s, _ := NewSigner(alg, keyFor(AES128GCM))
		signers = append(signers, s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, s := range signers {
			if s.Verify(msg) {
				t.Fatalf("alg %d: unsigned message verifies", s.Algorithm())
			}
		}
	})
}
