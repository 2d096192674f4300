package smb

import (
	"net"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
	"github.com/cifsd/cifsd/winacl"
)

// An ACE for a local group (Accounts.Groups) grants its members, and only
// them: "staff" may read f, v is in staff, x is not.
func TestGroupACEGrantsMembers(t *testing.T) {
	srv := &Server{
		Shares:   []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:     auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p", "v": "q", "x": "r"}))),
		Accounts: Accounts{Users: []string{"u", "v", "x"}, Groups: []Group{{Name: "staff", Members: []string{"V"}}}},
	}
	t.Cleanup(func() { srv.Close() })
	login := func(user, pass string) *wireClient {
		client, server := net.Pipe()
		t.Cleanup(func() { client.Close() })
		go srv.ServeConn(server)
		w := &wireClient{t: t, c: client}
		w.login(user, pass)
		h, _ := w.treeConnect("s")
		if h.Status != 0 {
			t.Fatalf("tree connect: %v", smb2.Status(h.Status))
		}
		w.tid = h.TreeID
		return w
	}
	u, v, x := login("u", "p"), login("v", "q"), login("x", "r")
	st, f := u.openStatus("f", smb2.GenericAll, smb2.FileCreate)
	if st != 0 {
		t.Fatalf("create: %v", st)
	}
	sd := &winacl.SecurityDescriptor{Control: winacl.DACLPresent, DACL: &winacl.ACL{Revision: 2, ACEs: []winacl.ACE{
		{Type: winacl.AccessAllowed, Mask: winacl.GenericRead, SID: groupSID("staff")},
	}}}
	if st := u.setSD(f, winacl.DACLInfo, sd); st != 0 {
		t.Fatalf("set DACL: %v", st)
	}
	u.closeFile(f)

	if st, g := v.openStatus("f", smb2.FileReadData, smb2.FileOpen); st != 0 {
		t.Errorf("member's read: %v", st)
	} else {
		v.closeFile(g)
	}
	if st, _ := v.openStatus("f", smb2.FileWriteData, smb2.FileOpen); st != smb2.StatusAccessDenied {
		t.Errorf("member's write beyond the group's ACE: %v, want ACCESS_DENIED", st)
	}
	if st, _ := x.openStatus("f", smb2.FileReadData, smb2.FileOpen); st != smb2.StatusAccessDenied {
		t.Errorf("non-member's read: %v, want ACCESS_DENIED", st)
	}
	if tok := srv.tokenFor(auth.Identity{User: "v"}); !tok.Has(groupSID("staff")) {
		t.Errorf("member's token lacks the group: %+v", tok)
	}
	if tok := srv.tokenFor(auth.Identity{User: "v", Guest: true}); tok.Has(groupSID("staff")) {
		t.Errorf("a guest's token holds a local group")
	}
}
