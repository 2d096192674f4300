package winacl

import (
	"bytes"
	"testing"
)

func TestSIDString(t *testing.T) {
	for _, s := range []string{"S-1-1-0", "S-1-5-21-1-2-3-1001", "S-1-5-32-544"} {
		sid, err := ParseSID(s)
		if err != nil || sid.String() != s {
			t.Errorf("%s: %v %v", s, sid, err)
		}
		got, n, err := DecodeSID(sid.Append(nil))
		if err != nil || n != sid.Len() || !got.Equal(sid) {
			t.Errorf("%s round trip: %v %d %v", s, got, n, err)
		}
	}
	for _, s := range []string{"", "S-1", "S-2-1-0", "S-1-x", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		if _, err := ParseSID(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	owner := MustParseSID("S-1-5-21-1-2-3-1001")
	sd := &SecurityDescriptor{
		Control: DACLPresent | DACLProtected, Owner: &owner, Group: &BuiltinUsers,
		DACL: &ACL{Revision: 2, ACEs: []ACE{
			{Type: AccessAllowed, Flags: ObjectInherit, Mask: 0x1F01FF, SID: owner},
			{Type: AccessDenied, Mask: 0x2, SID: Everyone},
			{Type: 5, Flags: 0, Raw: []byte{1, 2, 3, 4}},
		}},
	}
	b := sd.Encode()
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Encode(), b) {
		t.Fatalf("re-encoding differs")
	}
	if got.Control != DACLPresent|DACLProtected|SelfRelative || len(got.DACL.ACEs) != 3 || !got.Owner.Equal(owner) {
		t.Fatalf("decoded %+v", got)
	}
	// A NULL DACL stays one.
	null := &SecurityDescriptor{Control: DACLPresent}
	got, err = Decode(null.Encode())
	if err != nil || got.DACL != nil || got.Control&DACLPresent == 0 {
		t.Fatalf("null DACL: %+v %v", got, err)
	}
	// Lengths are not trusted.
	for i := range b {
		if _, err := Decode(b[:i]); err == nil && i < 20 {
			t.Fatalf("decoded %d bytes", i)
		}
	}
}

func TestMaximalAccess(t *testing.T) {
	user := MustParseSID("S-1-5-21-1-2-3-1001")
	other := MustParseSID("S-1-5-21-1-2-3-1002")
	tok := &Token{User: user, Groups: []SID{Everyone}}
	sd := func(owner SID, aces ...ACE) *SecurityDescriptor {
		return &SecurityDescriptor{Control: DACLPresent, Owner: &owner, DACL: &ACL{Revision: 2, ACEs: aces}}
	}
	cases := []struct {
		name string
		sd   *SecurityDescriptor
		want uint32
	}{
		{"null DACL", &SecurityDescriptor{Control: DACLPresent}, FileMapping.All},
		{"empty DACL, owner", sd(user), ReadControl | WriteDAC},
		{"empty DACL, not owner", sd(other), 0},
		{"generic read", sd(other, ACE{Type: AccessAllowed, Mask: GenericRead, SID: Everyone}), FileMapping.Read},
		{"deny first", sd(other, ACE{Type: AccessDenied, Mask: 0x2, SID: user},
			ACE{Type: AccessAllowed, Mask: 0x3, SID: Everyone}), 0x1},
		{"allow first", sd(other, ACE{Type: AccessAllowed, Mask: 0x3, SID: Everyone},
			ACE{Type: AccessDenied, Mask: 0x2, SID: user}), 0x3},
		{"inherit-only ignored", sd(other, ACE{Type: AccessAllowed, Flags: InheritOnly, Mask: 0x3, SID: Everyone}), 0},
		{"creator owner matches nobody", sd(user, ACE{Type: AccessAllowed, Mask: 0x1, SID: CreatorOwner}), ReadControl | WriteDAC},
		{"owner rights replace the implicit ones", sd(user, ACE{Type: AccessAllowed, Mask: 0x1, SID: OwnerRights}), 0x1},
	}
	for _, c := range cases {
		if got := c.sd.MaximalAccess(tok); got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestInheritance(t *testing.T) {
	owner := MustParseSID("S-1-5-21-1-2-3-1001")
	group := MustParseSID("S-1-5-21-1-2-3-513")
	parent := &SecurityDescriptor{Control: DACLPresent | DACLAutoInherited, DACL: &ACL{Revision: 2, ACEs: []ACE{
		{Type: AccessAllowed, Flags: ObjectInherit | ContainerInherit, Mask: GenericAll, SID: CreatorOwner},
		{Type: AccessAllowed, Flags: ContainerInherit | NoPropagateInherit, Mask: 0x1, SID: Everyone},
		{Type: AccessAllowed, Flags: ObjectInherit, Mask: 0x2, SID: Everyone},
		{Type: AccessAllowed, Mask: 0x4, SID: Everyone},
	}}}
	file := New(parent, nil, owner, group, false)
	if file.Control&DACLAutoInherited == 0 || len(file.DACL.ACEs) != 2 {
		t.Fatalf("file: %+v", file.DACL)
	}
	if a := file.DACL.ACEs[0]; !a.SID.Equal(owner) || a.Mask != FileMapping.All || a.Flags != InheritedACE {
		t.Errorf("file ACE 0: %+v", a)
	}
	dir := New(parent, nil, owner, group, true)
	want := []ACE{
		{Type: AccessAllowed, Flags: InheritedACE, Mask: FileMapping.All, SID: owner},
		{Type: AccessAllowed, Flags: ObjectInherit | ContainerInherit | InheritOnly | InheritedACE, Mask: GenericAll, SID: CreatorOwner},
		{Type: AccessAllowed, Flags: InheritedACE, Mask: 0x1, SID: Everyone},
		{Type: AccessAllowed, Flags: ObjectInherit | InheritOnly | InheritedACE, Mask: 0x2, SID: Everyone},
	}
	if len(dir.DACL.ACEs) != len(want) {
		t.Fatalf("dir: %+v", dir.DACL.ACEs)
	}
	for i, a := range want {
		g := dir.DACL.ACEs[i]
		if g.Flags != a.Flags || g.Mask != a.Mask || !g.SID.Equal(a.SID) {
			t.Errorf("dir ACE %d: %+v, want %+v", i, g, a)
		}
	}
	// Nothing to inherit: the default DACL.
	none := New(&SecurityDescriptor{Control: DACLPresent, DACL: &ACL{Revision: 2}}, nil, owner, group, false)
	if len(none.DACL.ACEs) != 2 || !none.DACL.ACEs[0].SID.Equal(owner) || none.Control&DACLAutoInherited != 0 {
		t.Errorf("default: %+v", none.DACL)
	}
	// The creator's DACL wins, its generic rights mapped.
	creator := &SecurityDescriptor{Control: DACLPresent, Owner: &Everyone,
		DACL: &ACL{Revision: 2, ACEs: []ACE{{Type: AccessAllowed, Mask: GenericRead, SID: Everyone}}}}
	c := New(parent, creator, owner, group, false)
	if !c.Owner.Equal(Everyone) || !c.Group.Equal(group) || len(c.DACL.ACEs) != 1 || c.DACL.ACEs[0].Mask != FileMapping.Read {
		t.Errorf("creator: %+v", c)
	}
}

func FuzzDecode(f *testing.F) {
	owner := MustParseSID("S-1-5-21-1-2-3-1001")
	f.Add((&SecurityDescriptor{Control: DACLPresent, Owner: &owner, Group: &Everyone,
		DACL: &ACL{Revision: 2, ACEs: []ACE{{Type: AccessAllowed, Mask: 1, SID: owner}}}}).Encode())
	f.Add((&SecurityDescriptor{Control: DACLPresent}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to something that decodes the same.
		again, err := Decode(sd.Encode())
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(again.Encode(), sd.Encode()) {
			t.Fatal("unstable encoding")
		}
		tok := &Token{User: owner, Groups: []SID{Everyone}}
		sd.MaximalAccess(tok)
		New(sd, sd, owner, owner, true)
		New(sd, nil, owner, owner, false)
	})
}
