// Package winacl implements Windows security descriptors (MS-DTYP 2.4):
// SIDs, ACEs and ACLs, the self-relative encoding, the access check
// (MS-DTYP 2.5.3.2) and the inheritance a new object gets from its parent
// (MS-DTYP 2.5.3.4).
package winacl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is returned (wrapped) for bytes that are not a valid
// structure.
var ErrInvalid = errors.New("winacl: invalid encoding")

// SID is a security identifier (MS-DTYP 2.4.2).
type SID struct {
	Authority uint64 // 48 bits
	Sub       []uint32
}

// Well-known SIDs (MS-DTYP 2.4.2.4).
var (
	Everyone           = SID{Authority: 1, Sub: []uint32{0}}
	CreatorOwner       = SID{Authority: 3, Sub: []uint32{0}}
	CreatorGroup       = SID{Authority: 3, Sub: []uint32{1}}
	OwnerRights        = SID{Authority: 3, Sub: []uint32{4}}
	Network            = SID{Authority: 5, Sub: []uint32{2}}
	Anonymous          = SID{Authority: 5, Sub: []uint32{7}}
	AuthenticatedUsers = SID{Authority: 5, Sub: []uint32{11}}
	LocalSystem        = SID{Authority: 5, Sub: []uint32{18}}
	BuiltinUsers       = SID{Authority: 5, Sub: []uint32{32, 545}}
)

// maxSubAuthorities is the most a SID may have (MS-DTYP 2.4.2.2).
const maxSubAuthorities = 15

// ParseSID reads the string form "S-1-5-21-...".
func ParseSID(s string) (SID, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" || len(parts)-3 > maxSubAuthorities {
		return SID{}, fmt.Errorf("%w: SID %q", ErrInvalid, s)
	}
	auth, err := strconv.ParseUint(parts[2], 0, 48)
	if err != nil {
		return SID{}, fmt.Errorf("%w: SID %q", ErrInvalid, s)
	}
	sid := SID{Authority: auth}
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return SID{}, fmt.Errorf("%w: SID %q", ErrInvalid, s)
		}
		sid.Sub = append(sid.Sub, uint32(v))
	}
	return sid, nil
}

// MustParseSID is ParseSID for constants; it panics on a bad string.
func MustParseSID(s string) SID {
	sid, err := ParseSID(s)
	if err != nil {
		panic(err)
	}
	return sid
}

// String returns the "S-1-..." form.
func (s SID) String() string {
	var b strings.Builder
	b.WriteString("S-1-")
	b.WriteString(strconv.FormatUint(s.Authority, 10))
	for _, v := range s.Sub {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}

// Equal reports whether s and t are the same SID.
func (s SID) Equal(t SID) bool {
	if s.Authority != t.Authority || len(s.Sub) != len(t.Sub) {
		return false
	}
	for i := range s.Sub {
		if s.Sub[i] != t.Sub[i] {
			return false
		}
	}
	return true
}

// Len is the encoded size.
func (s SID) Len() int { return 8 + 4*len(s.Sub) }

// Append appends the binary form (MS-DTYP 2.4.2.2).
func (s SID) Append(b []byte) []byte {
	b = append(b, 1, byte(len(s.Sub)),
		byte(s.Authority>>40), byte(s.Authority>>32), byte(s.Authority>>24),
		byte(s.Authority>>16), byte(s.Authority>>8), byte(s.Authority))
	for _, v := range s.Sub {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// DecodeSID reads a binary SID at the start of b and returns it with its
// length.
func DecodeSID(b []byte) (SID, int, error) {
	if len(b) < 8 || b[0] != 1 || b[1] > maxSubAuthorities {
		return SID{}, 0, fmt.Errorf("%w: SID header", ErrInvalid)
	}
	n := int(b[1])
	if len(b) < 8+4*n {
		return SID{}, 0, fmt.Errorf("%w: SID truncated", ErrInvalid)
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	sid := SID{Authority: auth, Sub: make([]uint32, n)}
	for i := range n {
		sid.Sub[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	return sid, 8 + 4*n, nil
}
