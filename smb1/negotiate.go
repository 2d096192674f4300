// Package smb1 is the little of SMB1 (MS-CIFS) cifsd speaks: the
// multi-protocol SMB_COM_NEGOTIATE that old clients open with, which the
// server answers with SMB2 (MS-SMB2 3.3.5.3.1).
package smb1

import (
	"errors"
	"fmt"
)

// ProtocolID starts every SMB1 message: 0xFF 'S' 'M' 'B'.
var ProtocolID = [4]byte{0xFF, 'S', 'M', 'B'}

// HeaderSize is the size of the SMB1 header (MS-CIFS 2.2.3.1).
const HeaderSize = 32

// CommandNegotiate is SMB_COM_NEGOTIATE.
const CommandNegotiate = 0x72

// ErrMalformed is returned (wrapped) for bytes that are not a valid
// SMB_COM_NEGOTIATE request.
var ErrMalformed = errors.New("smb1: malformed message")

// maxDialects bounds the dialect strings read from one request.
const maxDialects = 64

// ParseNegotiate returns the dialect strings of an SMB_COM_NEGOTIATE request
// (MS-CIFS 2.2.4.52.1): each is a 0x02 buffer-format byte followed by a
// NUL-terminated OEM string.
func ParseNegotiate(msg []byte) ([]string, error) {
	if len(msg) < HeaderSize+3 || [4]byte(msg[:4]) != ProtocolID {
		return nil, fmt.Errorf("%w: short or not SMB1", ErrMalformed)
	}
	if msg[4] != CommandNegotiate {
		return nil, fmt.Errorf("%w: command %#x is not NEGOTIATE", ErrMalformed, msg[4])
	}
	wc := int(msg[HeaderSize])
	p := HeaderSize + 1 + 2*wc
	if p+2 > len(msg) {
		return nil, fmt.Errorf("%w: word count", ErrMalformed)
	}
	bc := int(msg[p]) | int(msg[p+1])<<8
	p += 2
	if p+bc > len(msg) {
		return nil, fmt.Errorf("%w: byte count", ErrMalformed)
	}
	b := msg[p : p+bc]
	var out []string
	for len(b) > 0 {
		if b[0] != 0x02 {
			return nil, fmt.Errorf("%w: buffer format %#x", ErrMalformed, b[0])
		}
		b = b[1:]
		end := -1
		for i, c := range b {
			if c == 0 {
				end = i
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("%w: unterminated dialect", ErrMalformed)
		}
		if len(out) == maxDialects {
			return nil, fmt.Errorf("%w: too many dialects", ErrMalformed)
		}
		out = append(out, string(b[:end]))
		b = b[end+1:]
	}
	return out, nil
}
