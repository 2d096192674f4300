// Package utf16le converts between Go strings and the little-endian UTF-16
// that SMB, NTLM and DCE/RPC put on the wire.
package utf16le

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// EncodedLen returns the number of bytes Encode writes for s.
func EncodedLen(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

// Encode returns s as UTF-16LE. Invalid UTF-8 becomes U+FFFD.
func Encode(s string) []byte {
	b := make([]byte, EncodedLen(s))
	Put(b, s)
	return b
}

// Put writes s as UTF-16LE to b, which must hold EncodedLen(s) bytes, and
// returns the number of bytes written.
func Put(b []byte, s string) int {
	i := 0
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			binary.LittleEndian.PutUint16(b[i:], uint16(r1))
			binary.LittleEndian.PutUint16(b[i+2:], uint16(r2))
			i += 4
			continue
		}
		if r == utf8.RuneError {
			r = 0xFFFD
		}
		binary.LittleEndian.PutUint16(b[i:], uint16(r))
		i += 2
	}
	return i
}

// Decode returns the string in b, read as UTF-16LE. A trailing odd byte is
// ignored; unpaired surrogates become U+FFFD.
func Decode(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
