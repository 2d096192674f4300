package smb

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
	"github.com/cifsd/cifsd/winacl"
)

// openStatus opens name with access and disposition and returns the status.
func (w *wireClient) openStatus(name string, access, disp uint32) (smb2.Status, smb2.FileID) {
	w.t.Helper()
	b := createBody(name)
	le32(b[24:], access)
	le32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	le32(b[36:], disp)
	h, resp := w.roundTrip(smb2.Create, b, true, false)
	if h.Status != 0 {
		return smb2.Status(h.Status), smb2.FileID{}
	}
	body := resp[smb2.HeaderSize:]
	return 0, smb2.FileID{Persistent: binary.LittleEndian.Uint64(body[64:]), Volatile: binary.LittleEndian.Uint64(body[72:])}
}

func (w *wireClient) querySD(f smb2.FileID, info uint32) (smb2.Status, *winacl.SecurityDescriptor) {
	w.t.Helper()
	b := make([]byte, 41)
	le16(b, 41)
	b[2] = smb2.InfoSecurity
	le32(b[4:], 4096)
	le32(b[16:], info)
	putFID(b[24:], f)
	h, resp := w.roundTrip(smb2.QueryInfo, b, true, false)
	if h.Status != 0 {
		return smb2.Status(h.Status), nil
	}
	body := resp[smb2.HeaderSize:]
	off, n := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:])
	sd, err := winacl.Decode(resp[off : uint32(off)+n])
	if err != nil {
		w.t.Fatalf("decode queried descriptor: %v", err)
	}
	return 0, sd
}

func (w *wireClient) setSD(f smb2.FileID, info uint32, sd *winacl.SecurityDescriptor) smb2.Status {
	w.t.Helper()
	in := sd.Encode()
	b := make([]byte, 32+len(in))
	le16(b, 33)
	b[2] = smb2.InfoSecurity
	le32(b[4:], uint32(len(in)))
	le16(b[8:], smb2.HeaderSize+32)
	le32(b[12:], info)
	putFID(b[16:], f)
	copy(b[32:], in)
	h, _ := w.roundTrip(smb2.SetInfo, b, true, false)
	return smb2.Status(h.Status)
}

// aclClients serves fsys to users u and v and returns a client of each.
func aclClients(t *testing.T, fsys vfs.FS) (u, v *wireClient) {
	t.Helper()
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p", "v": "q"}))),
	}
	t.Cleanup(func() { srv.Close() })
	u = connectNTLM(t, srv, "s")
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close() })
	go srv.ServeConn(server)
	v = &wireClient{t: t, c: client}
	v.login("v", "q")
	h, _ := v.treeConnect("s")
	if h.Status != 0 {
		t.Fatalf("tree connect: %v", smb2.Status(h.Status))
	}
	v.tid = h.TreeID
	return u, v
}

// A file's DACL is stored, read back with its generic rights mapped, and
// decides who opens the file for what; the owner keeps READ_CONTROL and
// WRITE_DAC; a new file inherits its directory's inheritable ACEs.
func TestSecurityDescriptors(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			u, v := aclClients(t, fsys)
			st, f := u.openStatus("f", smb2.GenericAll, smb2.FileCreate)
			if st != 0 {
				t.Fatalf("create: %v", st)
			}
			st, sd := u.querySD(f, winacl.OwnerInfo|winacl.GroupInfo|winacl.DACLInfo)
			if st != 0 {
				t.Fatalf("query: %v", st)
			}
			if sd.Owner == nil || !sd.Owner.Equal(userSID("u")) || sd.Group == nil || sd.DACL == nil {
				t.Fatalf("new file's descriptor: %+v", sd)
			}
			// Everyone may open a file created under the default root.
			if st, g := v.openStatus("f", smb2.FileReadData|smb2.FileWriteData, smb2.FileOpen); st != 0 {
				t.Fatalf("other user's open under the default descriptor: %v", st)
			} else {
				v.closeFile(g)
			}

			owner := userSID("u")
			set := &winacl.SecurityDescriptor{Control: winacl.DACLPresent, DACL: &winacl.ACL{Revision: 2, ACEs: []winacl.ACE{
				{Type: winacl.AccessAllowed, Mask: winacl.GenericRead, SID: owner},
			}}}
			if st := u.setSD(f, winacl.DACLInfo, set); st != 0 {
				t.Fatalf("set DACL: %v", st)
			}
			_, sd = u.querySD(f, winacl.DACLInfo)
			if sd.DACL == nil || len(sd.DACL.ACEs) != 1 || sd.DACL.ACEs[0].Mask != 0x00120089 {
				t.Fatalf("stored DACL: %+v", sd.DACL)
			}
			u.closeFile(f)

			if st, _ := u.openStatus("f", smb2.FileWriteData, smb2.FileOpen); st != smb2.StatusAccessDenied {
				t.Errorf("write open against a read-only DACL: %v, want ACCESS_DENIED", st)
			}
			if st, g := u.openStatus("f", smb2.FileReadData|smb2.ReadControl|smb2.WriteDAC, smb2.FileOpen); st != 0 {
				t.Errorf("owner's read open: %v", st)
			} else {
				u.closeFile(g)
			}
			if st, _ := v.openStatus("f", smb2.FileReadData, smb2.FileOpen); st != smb2.StatusAccessDenied {
				t.Errorf("other user's open: %v, want ACCESS_DENIED", st)
			}
			if st, _ := u.openStatus("f", smb2.FileReadData, smb2.FileOverwriteIf); st != smb2.StatusAccessDenied {
				t.Errorf("overwrite without FILE_WRITE_DATA: %v, want ACCESS_DENIED", st)
			}

		})
	}
}

// A directory's inheritable ACEs reach the files created in it, CREATOR
// OWNER replaced by the creator; FILE_ADD_FILE is needed to create.
func TestSecurityInheritance(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			u, v := aclClients(t, fsys)
			b := createBody("d")
			le32(b[24:], smb2.GenericAll)
			le32(b[40:], smb2.FileDirectoryFile)
			h, resp := u.roundTrip(smb2.Create, b, true, false)
			if h.Status != 0 {
				t.Fatalf("mkdir: %v", smb2.Status(h.Status))
			}
			body := resp[smb2.HeaderSize:]
			d := smb2.FileID{Persistent: binary.LittleEndian.Uint64(body[64:]), Volatile: binary.LittleEndian.Uint64(body[72:])}
			set := &winacl.SecurityDescriptor{Control: winacl.DACLPresent, DACL: &winacl.ACL{Revision: 2, ACEs: []winacl.ACE{
				{Type: winacl.AccessAllowed, Flags: winacl.ObjectInherit | winacl.ContainerInherit | winacl.InheritOnly,
					Mask: winacl.GenericAll, SID: winacl.CreatorOwner},
				{Type: winacl.AccessAllowed, Mask: 0x001F01FF, SID: userSID("u")},
				{Type: winacl.AccessAllowed, Flags: winacl.ObjectInherit, Mask: 0x00120089, SID: userSID("v")},
			}}}
			if st := u.setSD(d, winacl.DACLInfo, set); st != 0 {
				t.Fatalf("set DACL: %v", st)
			}
			u.closeFile(d)
			if st, _ := v.openStatus(`d\x`, smb2.GenericAll, smb2.FileCreate); st != smb2.StatusAccessDenied {
				t.Errorf("create without FILE_ADD_FILE: %v, want ACCESS_DENIED", st)
			}
			st, f := u.openStatus(`d\f`, smb2.GenericAll, smb2.FileCreate)
			if st != 0 {
				t.Fatalf("create d/f: %v", st)
			}
			_, sd := u.querySD(f, winacl.DACLInfo)
			u.closeFile(f)
			if sd.DACL == nil || len(sd.DACL.ACEs) != 2 ||
				!sd.DACL.ACEs[0].SID.Equal(userSID("u")) || sd.DACL.ACEs[0].Mask != 0x001F01FF ||
				!sd.DACL.ACEs[1].SID.Equal(userSID("v")) || sd.DACL.ACEs[1].Flags != 0 {
				t.Fatalf("inherited DACL: %+v", sd.DACL)
			}
			if st, g := v.openStatus(`d\f`, smb2.GenericRead, smb2.FileOpen); st != 0 {
				t.Errorf("v reads d/f: %v", st)
			} else {
				v.closeFile(g)
			}
			if st, _ := v.openStatus(`d\f`, smb2.FileWriteData, smb2.FileOpen); st != smb2.StatusAccessDenied {
				t.Errorf("v writes d/f: %v, want ACCESS_DENIED", st)
			}
		})
	}
}

// A descriptor larger than the first read buffer is stored and read back
// whole.
func TestSecurityDescriptorLarge(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			u, _ := aclClients(t, fsys)
			st, f := u.openStatus("big", smb2.GenericAll, smb2.FileCreate)
			if st != 0 {
				t.Fatalf("create: %v", st)
			}
			dacl := &winacl.ACL{Revision: 2}
			for i := range 100 {
				dacl.ACEs = append(dacl.ACEs, winacl.ACE{Type: winacl.AccessAllowed, Mask: uint32(i),
					SID: winacl.SID{Authority: 5, Sub: []uint32{21, 1, 2, 3, uint32(2000 + i)}}})
			}
			dacl.ACEs = append(dacl.ACEs, winacl.ACE{Type: winacl.AccessAllowed, Mask: 0x1F01FF, SID: winacl.Everyone})
			if st := u.setSD(f, winacl.DACLInfo, &winacl.SecurityDescriptor{Control: winacl.DACLPresent, DACL: dacl}); st != 0 {
				t.Fatalf("set: %v", st)
			}
			_, sd := u.querySD(f, winacl.DACLInfo)
			if sd.DACL == nil || len(sd.DACL.ACEs) != 101 {
				t.Fatalf("read back %+v", sd.DACL)
			}
		})
	}
}

// A rename needs FILE_ADD_FILE on the target directory.
func TestSecurityRename(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			u, v := aclClients(t, fsys)
			b := createBody("d")
			le32(b[24:], smb2.GenericAll)
			le32(b[40:], smb2.FileDirectoryFile)
			h, resp := u.roundTrip(smb2.Create, b, true, false)
			if h.Status != 0 {
				t.Fatalf("mkdir: %v", smb2.Status(h.Status))
			}
			body := resp[smb2.HeaderSize:]
			d := smb2.FileID{Persistent: binary.LittleEndian.Uint64(body[64:]), Volatile: binary.LittleEndian.Uint64(body[72:])}
			// Only u may add files to d.
			set := &winacl.SecurityDescriptor{Control: winacl.DACLPresent, DACL: &winacl.ACL{Revision: 2, ACEs: []winacl.ACE{
				{Type: winacl.AccessAllowed, Mask: 0x001F01FF, SID: userSID("u")},
				{Type: winacl.AccessAllowed, Mask: 0x001200A9, SID: winacl.Everyone},
			}}}
			if st := u.setSD(d, winacl.DACLInfo, set); st != 0 {
				t.Fatalf("set DACL: %v", st)
			}
			u.closeFile(d)
			rename := func(w *wireClient, f smb2.FileID, to string) smb2.Status {
				n := utf16le.Encode(to)
				in := make([]byte, 20+len(n))
				le32(in[16:], uint32(len(n)))
				copy(in[20:], n)
				return w.setInfoRaw(f, 10, in) // FileRenameInformation
			}
			st, f := v.openStatus("vf", smb2.GenericAll, smb2.FileCreate)
			if st != 0 {
				t.Fatalf("create vf: %v", st)
			}
			if st := rename(v, f, `d\vf`); st != smb2.StatusAccessDenied {
				t.Errorf("v renames into d: %v, want ACCESS_DENIED", st)
			}
			if st := rename(v, f, "vf2"); st != 0 {
				t.Errorf("v renames in the root: %v", st)
			}
			v.closeFile(f)
			st, f = u.openStatus("uf", smb2.GenericAll, smb2.FileCreate)
			if st != 0 {
				t.Fatalf("create uf: %v", st)
			}
			if st := rename(u, f, `d\uf`); st != 0 {
				t.Errorf("u renames into d: %v", st)
			}
			u.closeFile(f)
		})
	}
}

// The SIDs a session acts with: the PAC's for Kerberos, a stable local one
// per NTLM user name, ANONYMOUS LOGON without Authenticated Users.
func TestTokenOf(t *testing.T) {
	k := tokenOf(auth.Identity{User: "x", SIDs: []string{"S-1-5-21-1-2-3-1105", "S-1-5-21-1-2-3-513"}})
	if k.User.String() != "S-1-5-21-1-2-3-1105" || !k.Has(winacl.MustParseSID("S-1-5-21-1-2-3-513")) ||
		!k.Has(winacl.AuthenticatedUsers) || primaryGroup(k).String() != "S-1-5-21-1-2-3-513" {
		t.Errorf("kerberos token: %+v", k)
	}
	n := tokenOf(auth.Identity{User: "Alice"})
	if !n.User.Equal(tokenOf(auth.Identity{User: "alice"}).User) || n.User.Equal(tokenOf(auth.Identity{User: "bob"}).User) {
		t.Errorf("ntlm user SIDs: %v", n.User)
	}
	a := tokenOf(auth.Identity{Anonymous: true})
	if !a.User.Equal(winacl.Anonymous) || a.Has(winacl.AuthenticatedUsers) || !a.Has(winacl.Everyone) {
		t.Errorf("anonymous token: %+v", a)
	}
}
