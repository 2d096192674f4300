package fscc

import (
	"fmt"

	"github.com/cifsd/cifsd/internal/utf16le"
)

// EA is one extended attribute (MS-FSCC 2.4.15).
type EA struct {
	Name  string
	Value []byte
	Flags uint8 // FILE_NEED_EA (0x80)
}

// maxEAs bounds the entries decoded from one buffer.
const maxEAs = 1024

// DecodeFullEaInformation decodes a FILE_FULL_EA_INFORMATION chain
// (MS-FSCC 2.4.15), as a client sends it in SET_INFO or the ExtA create
// context. An entry with an empty value deletes that EA.
func DecodeFullEaInformation(b []byte) ([]EA, error) {
	var out []EA
	for len(b) > 0 {
		if len(out) == maxEAs {
			return nil, fmt.Errorf("%w: too many EAs", ErrMalformed)
		}
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: short EA entry", ErrMalformed)
		}
		next := int(le.Uint32(b))
		nl, vl := int(b[5]), int(le.Uint16(b[6:]))
		if 8+nl+1+vl > len(b) || b[8+nl] != 0 || nl == 0 {
			return nil, fmt.Errorf("%w: EA entry lengths", ErrMalformed)
		}
		out = append(out, EA{
			Flags: b[4],
			Name:  string(b[8 : 8+nl]),
			Value: append([]byte(nil), b[9+nl:9+nl+vl]...),
		})
		if next == 0 {
			break
		}
		if next < 8+nl+1+vl || next > len(b) {
			return nil, fmt.Errorf("%w: EA NextEntryOffset", ErrMalformed)
		}
		b = b[next:]
	}
	return out, nil
}

// EncodeFullEaInformation encodes eas as a FILE_FULL_EA_INFORMATION chain,
// entries aligned to 4 bytes.
func EncodeFullEaInformation(eas []EA) []byte {
	var out []byte
	last := -1
	for _, ea := range eas {
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		if last >= 0 {
			le.PutUint32(out[last:], uint32(len(out)-last))
		}
		last = len(out)
		var h [8]byte
		h[4] = ea.Flags
		h[5] = byte(len(ea.Name))
		le.PutUint16(h[6:], uint16(len(ea.Value)))
		out = append(out, h[:]...)
		out = append(out, ea.Name...)
		out = append(out, 0)
		out = append(out, ea.Value...)
	}
	return out
}

// EaSize is the size FileEaInformation and directory entries report for
// eas: the length of their FILE_FULL_EA_INFORMATION encoding (0 for none).
func EaSize(eas []EA) uint32 {
	n := 0
	for i, ea := range eas {
		sz := 8 + len(ea.Name) + 1 + len(ea.Value)
		if i < len(eas)-1 {
			sz = (sz + 3) &^ 3
		}
		n += sz
	}
	return uint32(n)
}

// StreamEntry is one entry of FileStreamInformation (MS-FSCC 2.4.49): Name
// "" is the default data stream "::$DATA".
type StreamEntry struct {
	Name                 string
	Size, AllocationSize int64
}

// EncodeStreamInformation encodes a FileStreamInformation chain, entries
// 8-byte aligned.
func EncodeStreamInformation(list []StreamEntry) []byte {
	var out []byte
	last := -1
	for _, e := range list {
		for len(out)%8 != 0 {
			out = append(out, 0)
		}
		if last >= 0 {
			le.PutUint32(out[last:], uint32(len(out)-last))
		}
		last = len(out)
		name := utf16le.Encode(":" + e.Name + ":$DATA")
		var h [24]byte
		le.PutUint32(h[4:], uint32(len(name)))
		le.PutUint64(h[8:], uint64(e.Size))
		le.PutUint64(h[16:], uint64(e.AllocationSize))
		out = append(out, h[:]...)
		out = append(out, name...)
	}
	return out
}
