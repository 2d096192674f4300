package winacl

import (
	"encoding/binary"
	"fmt"
)

// SECURITY_DESCRIPTOR control bits (MS-DTYP 2.4.6).
const (
	OwnerDefaulted    uint16 = 0x0001
	GroupDefaulted    uint16 = 0x0002
	DACLPresent       uint16 = 0x0004
	DACLDefaulted     uint16 = 0x0008
	SACLPresent       uint16 = 0x0010
	SACLDefaulted     uint16 = 0x0020
	DACLAutoInheritRq uint16 = 0x0100
	SACLAutoInheritRq uint16 = 0x0200
	DACLAutoInherited uint16 = 0x0400
	SACLAutoInherited uint16 = 0x0800
	DACLProtected     uint16 = 0x1000
	SACLProtected     uint16 = 0x2000
	SelfRelative      uint16 = 0x8000
)

// The parts of a descriptor a query or set names (SECURITY_INFORMATION,
// MS-DTYP 2.4.7).
const (
	OwnerInfo uint32 = 0x1
	GroupInfo uint32 = 0x2
	DACLInfo  uint32 = 0x4
	SACLInfo  uint32 = 0x8
)

// ACE types (MS-DTYP 2.4.4.1).
const (
	AccessAllowed uint8 = 0x00
	AccessDenied  uint8 = 0x01
	SystemAudit   uint8 = 0x02
)

// ACE flags (MS-DTYP 2.4.4.1).
const (
	ObjectInherit      uint8 = 0x01
	ContainerInherit   uint8 = 0x02
	NoPropagateInherit uint8 = 0x04
	InheritOnly        uint8 = 0x08
	InheritedACE       uint8 = 0x10
	inheritFlags             = ObjectInherit | ContainerInherit | NoPropagateInherit | InheritOnly
)

// ACE is one access control entry. Types other than allowed, denied and
// audit keep their body in Raw, unread, and never match in an access check.
type ACE struct {
	Type  uint8
	Flags uint8
	Mask  uint32
	SID   SID
	Raw   []byte // the body after the header, for types not understood
}

func (a *ACE) known() bool { return a.Raw == nil }

// Len is the encoded size.
func (a *ACE) Len() int {
	if !a.known() {
		return 4 + len(a.Raw)
	}
	return 8 + a.SID.Len()
}

// ACL is an access control list (MS-DTYP 2.4.5).
type ACL struct {
	Revision uint8
	ACEs     []ACE
}

// Len is the encoded size.
func (l *ACL) Len() int {
	n := 8
	for i := range l.ACEs {
		n += l.ACEs[i].Len()
	}
	return n
}

// Append appends the binary form.
func (l *ACL) Append(b []byte) []byte {
	rev := l.Revision
	if rev == 0 {
		rev = 2
	}
	b = append(b, rev, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(l.Len()))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(l.ACEs)))
	b = append(b, 0, 0)
	for i := range l.ACEs {
		a := &l.ACEs[i]
		b = append(b, a.Type, a.Flags)
		b = binary.LittleEndian.AppendUint16(b, uint16(a.Len()))
		if !a.known() {
			b = append(b, a.Raw...)
			continue
		}
		b = binary.LittleEndian.AppendUint32(b, a.Mask)
		b = a.SID.Append(b)
	}
	return b
}

// maxACLSize is the most an ACL may take: its size is 16 bits.
const maxACLSize = 0xFFFF

// DecodeACL reads an ACL at the start of b.
func DecodeACL(b []byte) (*ACL, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: ACL header", ErrInvalid)
	}
	size := int(binary.LittleEndian.Uint16(b[2:]))
	count := int(binary.LittleEndian.Uint16(b[4:]))
	if size < 8 || size > len(b) {
		return nil, fmt.Errorf("%w: ACL size", ErrInvalid)
	}
	l := &ACL{Revision: b[0]}
	if l.Revision != 2 && l.Revision != 4 {
		return nil, fmt.Errorf("%w: ACL revision %d", ErrInvalid, l.Revision)
	}
	body := b[8:size]
	if count > len(body)/4 {
		return nil, fmt.Errorf("%w: ACE count", ErrInvalid)
	}
	l.ACEs = make([]ACE, 0, count)
	for range count {
		if len(body) < 4 {
			return nil, fmt.Errorf("%w: ACE header", ErrInvalid)
		}
		n := int(binary.LittleEndian.Uint16(body[2:]))
		if n < 4 || n > len(body) || n%4 != 0 {
			return nil, fmt.Errorf("%w: ACE size", ErrInvalid)
		}
		a := ACE{Type: body[0], Flags: body[1]}
		switch a.Type {
		case AccessAllowed, AccessDenied, SystemAudit:
			if n < 8 {
				return nil, fmt.Errorf("%w: ACE size", ErrInvalid)
			}
			a.Mask = binary.LittleEndian.Uint32(body[4:])
			sid, sn, err := DecodeSID(body[8:n])
			if err != nil {
				return nil, err
			}
			if 8+sn != n {
				// Padding after the SID: keep the ACE as it came.
				a.Raw = append([]byte(nil), body[4:n]...)
			} else {
				a.SID = sid
			}
		default:
			a.Raw = append([]byte{}, body[4:n]...)
		}
		l.ACEs = append(l.ACEs, a)
		body = body[n:]
	}
	return l, nil
}

// SecurityDescriptor is a security descriptor (MS-DTYP 2.4.6). A nil DACL
// with DACLPresent in Control is a NULL DACL (everyone gets everything);
// without it the descriptor has no DACL.
type SecurityDescriptor struct {
	Control uint16
	Owner   *SID
	Group   *SID
	DACL    *ACL
	SACL    *ACL
}

// Decode reads a self-relative security descriptor; no offset or length
// in b is trusted.
func Decode(b []byte) (*SecurityDescriptor, error) {
	if len(b) < 20 || b[0] != 1 {
		return nil, fmt.Errorf("%w: descriptor header", ErrInvalid)
	}
	sd := &SecurityDescriptor{Control: binary.LittleEndian.Uint16(b[2:]) | SelfRelative}
	// at returns where the i-th of OwnerOffset, GroupOffset, SaclOffset
	// and DaclOffset points: nothing when 0, an error outside the buffer.
	at := func(i int) ([]byte, error) {
		off := int(binary.LittleEndian.Uint32(b[4+4*i:]))
		if off == 0 {
			return nil, nil
		}
		if off < 20 || off >= len(b) {
			return nil, fmt.Errorf("%w: offset %d", ErrInvalid, off)
		}
		return b[off:], nil
	}
	sidAt := func(i int) (*SID, error) {
		p, err := at(i)
		if p == nil || err != nil {
			return nil, err
		}
		sid, _, err := DecodeSID(p)
		if err != nil {
			return nil, err
		}
		return &sid, nil
	}
	aclAt := func(i int, present uint16) (*ACL, error) {
		if sd.Control&present == 0 {
			return nil, nil
		}
		p, err := at(i)
		if p == nil || err != nil {
			return nil, err
		}
		return DecodeACL(p)
	}
	var err error
	if sd.Owner, err = sidAt(0); err != nil {
		return nil, err
	}
	if sd.Group, err = sidAt(1); err != nil {
		return nil, err
	}
	if sd.SACL, err = aclAt(2, SACLPresent); err != nil {
		return nil, err
	}
	if sd.DACL, err = aclAt(3, DACLPresent); err != nil {
		return nil, err
	}
	return sd, nil
}

// Encode returns the self-relative form.
func (sd *SecurityDescriptor) Encode() []byte {
	b := make([]byte, 20, 20+sd.encodedTail())
	b[0] = 1
	ctl := sd.Control | SelfRelative
	if sd.SACL == nil {
		ctl &^= SACLPresent
	}
	binary.LittleEndian.PutUint16(b[2:], ctl)
	if sd.Owner != nil {
		binary.LittleEndian.PutUint32(b[4:], uint32(len(b)))
		b = sd.Owner.Append(b)
	}
	if sd.Group != nil {
		binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
		b = sd.Group.Append(b)
	}
	if sd.SACL != nil {
		binary.LittleEndian.PutUint32(b[12:], uint32(len(b)))
		b = sd.SACL.Append(b)
	}
	if sd.DACL != nil && ctl&DACLPresent != 0 {
		binary.LittleEndian.PutUint32(b[16:], uint32(len(b)))
		b = sd.DACL.Append(b)
	}
	return b
}

func (sd *SecurityDescriptor) encodedTail() int {
	n := 0
	if sd.Owner != nil {
		n += sd.Owner.Len()
	}
	if sd.Group != nil {
		n += sd.Group.Len()
	}
	if sd.SACL != nil {
		n += sd.SACL.Len()
	}
	if sd.DACL != nil {
		n += sd.DACL.Len()
	}
	return n
}

// Valid reports whether the descriptor's ACLs fit their 16-bit sizes.
func (sd *SecurityDescriptor) Valid() bool {
	return (sd.DACL == nil || sd.DACL.Len() <= maxACLSize) && (sd.SACL == nil || sd.SACL.Len() <= maxACLSize)
}

// Filter returns the parts of sd that info names (a query's
// AdditionalInformation), with the control bits of those parts.
func (sd *SecurityDescriptor) Filter(info uint32) *SecurityDescriptor {
	out := &SecurityDescriptor{Control: SelfRelative}
	if info&OwnerInfo != 0 {
		out.Owner = sd.Owner
		out.Control |= sd.Control & OwnerDefaulted
	}
	if info&GroupInfo != 0 {
		out.Group = sd.Group
		out.Control |= sd.Control & GroupDefaulted
	}
	if info&DACLInfo != 0 {
		out.DACL = sd.DACL
		out.Control |= sd.Control & (DACLPresent | DACLDefaulted | DACLAutoInherited | DACLProtected)
	}
	if info&SACLInfo != 0 {
		out.SACL = sd.SACL
		out.Control |= sd.Control & (SACLPresent | SACLDefaulted | SACLAutoInherited | SACLProtected)
	}
	return out
}

// Clone returns a deep copy.
func (sd *SecurityDescriptor) Clone() *SecurityDescriptor {
	out := &SecurityDescriptor{Control: sd.Control}
	if sd.Owner != nil {
		o := sd.Owner.clone()
		out.Owner = &o
	}
	if sd.Group != nil {
		g := sd.Group.clone()
		out.Group = &g
	}
	out.DACL = sd.DACL.clone()
	out.SACL = sd.SACL.clone()
	return out
}

func (s SID) clone() SID { return SID{Authority: s.Authority, Sub: append([]uint32(nil), s.Sub...)} }

func (l *ACL) clone() *ACL {
	if l == nil {
		return nil
	}
	out := &ACL{Revision: l.Revision, ACEs: make([]ACE, len(l.ACEs))}
	for i, a := range l.ACEs {
		a.SID = a.SID.clone()
		if a.Raw != nil {
			a.Raw = append([]byte{}, a.Raw...)
		}
		out.ACEs[i] = a
	}
	return out
}
