package winacl

// Access rights (MS-DTYP 2.4.3, MS-SMB2 2.2.13.1).
const (
	ReadControl          uint32 = 0x00020000
	WriteDAC             uint32 = 0x00040000
	WriteOwner           uint32 = 0x00080000
	AccessSystemSecurity uint32 = 0x01000000
	MaximumAllowed       uint32 = 0x02000000
	GenericAll           uint32 = 0x10000000
	GenericExecute       uint32 = 0x20000000
	GenericWrite         uint32 = 0x40000000
	GenericRead          uint32 = 0x80000000
	genericBits                 = GenericAll | GenericExecute | GenericWrite | GenericRead
)

// GenericMapping maps the GENERIC_* rights to an object's specific ones
// (MS-DTYP 2.5.3.1.1).
type GenericMapping struct {
	Read, Write, Execute, All uint32
}

// FileMapping is the mapping of files and directories (MS-SMB2 3.3.5.9:
// FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE,
// FILE_ALL_ACCESS; a directory's are the same values).
var FileMapping = GenericMapping{Read: 0x00120089, Write: 0x00120116, Execute: 0x001200A0, All: 0x001F01FF}

// Map replaces the generic rights in mask by the specific ones.
func (m GenericMapping) Map(mask uint32) uint32 {
	if mask&GenericRead != 0 {
		mask |= m.Read
	}
	if mask&GenericWrite != 0 {
		mask |= m.Write
	}
	if mask&GenericExecute != 0 {
		mask |= m.Execute
	}
	if mask&GenericAll != 0 {
		mask |= m.All
	}
	return mask &^ genericBits
}

// Token is who asks: the user's SID and the SIDs of its groups.
type Token struct {
	User   SID
	Groups []SID
}

// Has reports whether s is the token's user or one of its groups.
func (t *Token) Has(s SID) bool {
	if t.User.Equal(s) {
		return true
	}
	for _, g := range t.Groups {
		if g.Equal(s) {
			return true
		}
	}
	return false
}

// MaximalAccess returns every right sd's DACL grants t, evaluated as
// MS-DTYP 2.5.3.2 does for MAXIMUM_ALLOWED: ACEs in order, a right
// decided by the first ACE that names it; no DACL grants everything; the
// owner is granted READ_CONTROL and WRITE_DAC unless an OWNER RIGHTS ACE
// says what the owner gets.
func (sd *SecurityDescriptor) MaximalAccess(t *Token) uint32 {
	if sd.Control&DACLPresent == 0 || sd.DACL == nil {
		return FileMapping.All
	}
	owner := sd.Owner != nil && t.Has(*sd.Owner)
	ownerRights := false
	for i := range sd.DACL.ACEs {
		a := &sd.DACL.ACEs[i]
		if a.known() && a.Flags&InheritOnly == 0 && a.SID.Equal(OwnerRights) {
			ownerRights = true
		}
	}
	var granted, denied uint32
	if owner && !ownerRights {
		granted = ReadControl | WriteDAC
	}
	for i := range sd.DACL.ACEs {
		a := &sd.DACL.ACEs[i]
		if !a.known() || a.Flags&InheritOnly != 0 {
			continue
		}
		if !t.Has(a.SID) && !(owner && a.SID.Equal(OwnerRights)) {
			continue
		}
		mask := FileMapping.Map(a.Mask)
		switch a.Type {
		case AccessAllowed:
			granted |= mask &^ denied
		case AccessDenied:
			denied |= mask &^ granted
		}
	}
	return granted
}
