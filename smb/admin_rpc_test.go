package smb

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/rpc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
	"github.com/cifsd/cifsd/winacl"
)

func adminTestServer() *Server {
	return &Server{
		ServerName: "SRV",
		Shares:     []Share{{Name: "data", FS: vfs.NewMem()}},
		Auth:       auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p", "v": "q"}))),
		Accounts: Accounts{
			Users:  []string{"u", "v"},
			Groups: []Group{{Name: "staff", Members: []string{"v"}}},
			Admins: []string{"U"},
		},
	}
}

// The accounts lsarpc and samr name carry the SIDs the server puts in
// security descriptors: a file a user creates is owned by the SID its
// account has.
func TestDirectoryNamesTheSIDsOfDescriptors(t *testing.T) {
	srv := adminTestServer()
	w := connectNTLM(t, srv, "data")
	f := w.open("mine.txt", smb2.GenericAll, 0)
	st, sd := w.querySD(f, 1) // OWNER_SECURITY_INFORMATION
	if st != 0 || sd.Owner == nil {
		t.Fatalf("query owner: %v", st)
	}
	accts := directory{srv}.Accounts(context.Background())
	byName := map[string]rpc.Account{}
	for _, a := range accts {
		byName[a.Name] = a
	}
	u, ok := byName["u"]
	if !ok || !u.SID.Equal(*sd.Owner) || u.Type != rpc.SIDTypeUser {
		t.Fatalf("account u %+v, file owner %s", u, sd.Owner)
	}
	if !slices.ContainsFunc(u.MemberOf, func(s winacl.SID) bool { return s.Equal(rpc.BuiltinAdministrators) }) {
		t.Errorf("u, an admin, is not in BUILTIN\\Administrators: %v", u.MemberOf)
	}
	staff := byName["staff"]
	if staff.Type != rpc.SIDTypeGroup || !slices.ContainsFunc(byName["v"].MemberOf, func(s winacl.SID) bool { return s.Equal(staff.SID) }) {
		t.Errorf("v is not in staff: %+v %+v", byName["v"], staff)
	}
	if !domainSIDOf(u.SID).Equal(directory{srv}.DomainSID()) {
		t.Errorf("u's SID %s is not in the account domain %s", u.SID, directory{srv}.DomainSID())
	}
}

func domainSIDOf(s winacl.SID) winacl.SID {
	return winacl.SID{Authority: s.Authority, Sub: s.Sub[:len(s.Sub)-1]}
}

// srvsvc sees the live sessions and opens, and closing an open from it
// closes it for its client.
func TestAdminStateListsAndClosesOpens(t *testing.T) {
	srv := adminTestServer()
	w := connectNTLM(t, srv, "data")
	f := w.open(`dir-less.txt`, smb2.GenericAll, 0)
	st := adminState{srv}
	ctx := context.Background()

	sessions := st.Sessions(ctx)
	if len(sessions) != 1 || sessions[0].User != "u" || sessions[0].Opens != 1 {
		t.Fatalf("sessions %+v", sessions)
	}
	conns := st.Connections(ctx)
	if len(conns) != 1 || conns[0].Share != "data" || conns[0].Opens != 1 {
		t.Fatalf("connections %+v", conns)
	}
	files := st.Files(ctx)
	if len(files) != 1 || files[0].Path != `C:\data\dir-less.txt` || files[0].User != "u" || files[0].Permissions&permFileWrite == 0 {
		t.Fatalf("files %+v", files)
	}
	if !st.CloseFile(ctx, files[0].ID) {
		t.Fatal("CloseFile found nothing")
	}
	if s := w.rawRead(f, 0, 1); s != smb2.StatusFileClosed {
		t.Fatalf("read after NetrFileClose: %v, want STATUS_FILE_CLOSED", s)
	}
	if len(st.Files(ctx)) != 0 || st.CloseFile(ctx, files[0].ID) {
		t.Fatal("the open is still listed")
	}

	if n := st.CloseSessions(ctx, "", "nobody"); n != 0 {
		t.Fatalf("closed %d sessions of nobody", n)
	}
	if n := st.CloseSessions(ctx, "", "U"); n != 1 || len(st.Sessions(ctx)) != 0 {
		t.Fatalf("NetrSessionDel of u: %d, left %+v", n, st.Sessions(ctx))
	}
}

func TestCallerIsAdminOnlyWhenListed(t *testing.T) {
	srv := adminTestServer()
	for _, tc := range []struct {
		id    auth.Identity
		admin bool
	}{
		{auth.Identity{User: "u"}, true},
		{auth.Identity{User: "v"}, false},
		{auth.Identity{User: "u", Guest: true}, false},
	} {
		sess := &Session{}
		sess.setIdentity(tc.id)
		c := srv.callerOf(sess)
		if c.Admin != tc.admin {
			t.Errorf("%+v: admin %v", tc.id, c.Admin)
		}
	}
}

// NetSessionEnum's time and idle time come from the session: how long
// since it was set up and since its last request, which a request resets.
func TestAdminStateSessionTimes(t *testing.T) {
	srv := adminTestServer()
	w := connectNTLM(t, srv, "data")
	st := adminState{srv}
	ctx := context.Background()
	sessions := srv.liveSessions()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions", len(sessions))
	}
	sess := sessions[0]
	// As if set up two hours ago and last heard from one hour ago.
	sess.created = sess.created.Add(-2 * time.Hour)
	sess.lastSeen.Store(time.Now().Add(-time.Hour).UnixNano())
	si := st.Sessions(ctx)[0]
	if si.Time < 2*time.Hour || si.Idle < time.Hour || si.Idle >= si.Time {
		t.Fatalf("time %v idle %v", si.Time, si.Idle)
	}
	w.roundTrip(smb2.Echo, []byte{4, 0, 0, 0}, true, false)
	si = st.Sessions(ctx)[0]
	if si.Time < 2*time.Hour || si.Idle >= time.Hour {
		t.Fatalf("after a request: time %v idle %v", si.Time, si.Idle)
	}
}
