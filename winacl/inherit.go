package winacl

// NormalizeDACL is what storing a DACL does to it: generic rights of the
// ACEs that apply to the object are mapped to specific ones (an
// inherit-only ACE keeps them for its heirs).
func NormalizeDACL(l *ACL) *ACL {
	if l == nil {
		return nil
	}
	out := l.clone()
	for i := range out.ACEs {
		a := &out.ACEs[i]
		if a.known() && a.Flags&InheritOnly == 0 {
			a.Mask = FileMapping.Map(a.Mask)
		}
	}
	return out
}

// SetControl returns the control bits a descriptor keeps for a DACL set
// with control ctl: SE_DACL_AUTO_INHERIT_REQ is never kept, and
// SE_DACL_AUTO_INHERITED only with it (as Windows answers smbtorture's
// smb2.acls.INHERITFLAGS).
func SetControl(ctl uint16) uint16 {
	out := DACLPresent | ctl&DACLProtected
	if ctl&(DACLAutoInherited|DACLAutoInheritRq) == DACLAutoInherited|DACLAutoInheritRq {
		out |= DACLAutoInherited
	}
	return out
}

// DefaultDACL is the DACL of an object that inherits nothing: full
// control to its owner and to SYSTEM, as a Windows token's default DACL.
func DefaultDACL(owner SID) *ACL {
	return &ACL{Revision: 2, ACEs: []ACE{
		{Type: AccessAllowed, Mask: FileMapping.All, SID: owner.clone()},
		{Type: AccessAllowed, Mask: FileMapping.All, SID: LocalSystem.clone()},
	}}
}

// New returns the descriptor of a new object (MS-DTYP 2.5.3.4.1
// CreateSecurityDescriptor): the creator's owner, group and DACL where it
// gives them (the SecD create context), otherwise owner and group, and the
// ACEs the parent's DACL lets the object inherit (2.5.3.4.2), or the
// default DACL when it inherits none.
func New(parent, creator *SecurityDescriptor, owner, group SID, isDir bool) *SecurityDescriptor {
	sd := &SecurityDescriptor{Control: SelfRelative}
	o, g := owner.clone(), group.clone()
	if creator != nil && creator.Owner != nil {
		o = creator.Owner.clone()
	}
	if creator != nil && creator.Group != nil {
		g = creator.Group.clone()
	}
	sd.Owner, sd.Group = &o, &g
	if creator != nil && creator.Control&DACLPresent != 0 {
		sd.Control |= SetControl(creator.Control)
		sd.DACL = NormalizeDACL(creator.DACL)
		return sd
	}
	var auto bool
	var inherited []ACE
	if parent != nil && parent.Control&DACLPresent != 0 && parent.DACL != nil {
		auto = parent.Control&DACLAutoInherited != 0
		inherited = inheritACEs(parent.DACL, isDir, auto, o, g)
	}
	sd.Control |= DACLPresent
	if len(inherited) == 0 {
		sd.DACL = DefaultDACL(o)
		return sd
	}
	if auto {
		sd.Control |= DACLAutoInherited
	}
	sd.DACL = &ACL{Revision: parent.DACL.Revision, ACEs: inherited}
	return sd
}

// inheritACEs computes the ACEs a child gets from its parent's DACL
// (MS-DTYP 2.5.3.4.2 ComputeInheritedACLfromParent): a file takes the
// object-inherit ACEs; a directory the container-inherit ones, and the
// object-inherit ones as inherit-only for its own files. An ACE that names
// CREATOR OWNER or CREATOR GROUP or generic rights applies to the child
// with the creator's SIDs and specific rights, and is kept unchanged,
// inherit-only, for the directory's heirs.
func inheritACEs(parent *ACL, isDir, auto bool, owner, group SID) []ACE {
	var out []ACE
	mark := uint8(0)
	if auto {
		mark = InheritedACE
	}
	effective := func(a *ACE) ACE {
		sid := a.SID
		switch {
		case sid.Equal(CreatorOwner):
			sid = owner
		case sid.Equal(CreatorGroup):
			sid = group
		}
		return ACE{Type: a.Type, Flags: mark, Mask: FileMapping.Map(a.Mask), SID: sid.clone()}
	}
	for i := range parent.ACEs {
		a := &parent.ACEs[i]
		if !a.known() || a.Type != AccessAllowed && a.Type != AccessDenied {
			continue
		}
		f := a.Flags
		if !isDir {
			if f&ObjectInherit != 0 {
				out = append(out, effective(a))
			}
			continue
		}
		switch {
		case f&ContainerInherit == 0:
			if f&ObjectInherit == 0 || f&NoPropagateInherit != 0 {
				continue
			}
			out = append(out, ACE{Type: a.Type, Flags: ObjectInherit | InheritOnly | mark, Mask: a.Mask, SID: a.SID.clone()})
		case f&NoPropagateInherit != 0:
			out = append(out, effective(a))
		case a.SID.Equal(CreatorOwner) || a.SID.Equal(CreatorGroup) || a.Mask&genericBits != 0:
			out = append(out, effective(a),
				ACE{Type: a.Type, Flags: f&(ObjectInherit|ContainerInherit) | InheritOnly | mark, Mask: a.Mask, SID: a.SID.clone()})
		default:
			out = append(out, ACE{Type: a.Type, Flags: f&(ObjectInherit|ContainerInherit) | mark, Mask: a.Mask, SID: a.SID.clone()})
		}
	}
	return out
}
