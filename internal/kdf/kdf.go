// Package kdf implements the NIST SP 800-108 key derivation function in
// counter mode with HMAC-SHA256 as the PRF, the KDF that SMB 3.x uses to
// derive its signing, encryption and application keys (MS-SMB2 3.1.4.2).
package kdf

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// CounterHMACSHA256 returns the first lBits/8 bytes of the SP 800-108
// section 5.1 counter-mode KDF output with r = 32 and PRF = HMAC-SHA256:
//
//	K(i) = HMAC-SHA256(key, [i]_32 || label || 0x00 || context || [L]_32)
//
// for i = 1, 2, ... until L = lBits bits are produced. The 0x00 separator is
// added here; label and context are used exactly as given, so a caller that
// wants SMB's NUL-terminated strings passes the terminating NUL as part of
// them (MS-SMB2 3.3.5.5.3 lists labels such as "SMBSigningKey" with their
// NUL). lBits must be a positive multiple of 8; SMB uses 128 and 256.
func CounterHMACSHA256(key, label, context []byte, lBits int) []byte {
	if lBits <= 0 || lBits%8 != 0 {
		panic("kdf: L must be a positive multiple of 8 bits")
	}
	out := make([]byte, 0, (lBits/8+sha256.Size-1)/sha256.Size*sha256.Size)
	mac := hmac.New(sha256.New, key)
	var i, l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(lBits))
	for n := uint32(1); len(out) < lBits/8; n++ {
		mac.Reset()
		binary.BigEndian.PutUint32(i[:], n)
		mac.Write(i[:])
		mac.Write(label)
		mac.Write([]byte{0})
		mac.Write(context)
		mac.Write(l[:])
		out = mac.Sum(out)
	}
	return out[:lBits/8]
}
