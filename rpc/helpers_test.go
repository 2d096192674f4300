package rpc

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/winacl"
)

// testDomain is the account domain of the tests' directory.
var testDomain = winacl.MustParseSID("S-1-5-21-1-2-3")

func domRID(rid uint32) winacl.SID {
	return winacl.SID{Authority: 5, Sub: append(append([]uint32(nil), testDomain.Sub...), rid)}
}

// testDir is a directory with two users and the users' group.
type testDir struct{}

func (testDir) DomainSID() winacl.SID { return testDomain }

func (testDir) Accounts(context.Context) []Account {
	users := domRID(513)
	return []Account{
		{Name: "None", SID: users, Type: SIDTypeGroup},
		{Name: "alice", SID: domRID(1001), Type: SIDTypeUser, FullName: "Alice Liddell",
			MemberOf: []winacl.SID{users, winacl.BuiltinUsers, BuiltinAdministrators}},
		{Name: "bob", SID: domRID(1002), Type: SIDTypeUser, MemberOf: []winacl.SID{users, winacl.BuiltinUsers}},
		{Name: "carol", Domain: "REALM", SID: winacl.MustParseSID("S-1-5-21-9-9-9-1104"), Type: SIDTypeUser},
	}
}

// testState is live state that records what was closed.
type testState struct {
	sessions []SessionInfo
	files    []FileInfo
	conns    []ConnectionInfo
	closed   []uint32
	ended    []string
}

func (t *testState) Sessions(context.Context) []SessionInfo { return t.sessions }
func (t *testState) CloseSessions(_ context.Context, client, user string) int {
	n := 0
	for _, s := range t.sessions {
		if (client == "" || client == s.Client) && (user == "" || user == s.User) {
			t.ended = append(t.ended, s.User)
			n++
		}
	}
	return n
}
func (t *testState) Files(context.Context) []FileInfo { return t.files }
func (t *testState) CloseFile(_ context.Context, id uint32) bool {
	for _, f := range t.files {
		if f.ID == id {
			t.closed = append(t.closed, id)
			return true
		}
	}
	return false
}
func (t *testState) Connections(context.Context) []ConnectionInfo { return t.conns }

func testServer() (*Server, *testState) {
	st := &testState{
		sessions: []SessionInfo{{Client: "10.0.0.1", User: "alice", Opens: 1}, {Client: "10.0.0.2", User: "bob"}},
		files:    []FileInfo{{ID: 7, Path: `C:\data\a.txt`, User: "bob", Permissions: 1}},
		conns:    []ConnectionInfo{{ID: 3, Share: "data", User: "bob", Client: "10.0.0.2", Opens: 1}},
	}
	return &Server{
		ServerName: "SRV",
		Shares: func(context.Context) []ShareInfo {
			return []ShareInfo{{Name: "data", Comment: "files", CurrentUses: 1},
				{Name: "IPC$", Type: ShareTypeIPC | ShareTypeSpecial}}
		},
		Accounts: testDir{},
		State:    st,
	}, st
}

var (
	adminCaller = &Caller{User: "alice", Admin: true, Token: winacl.Token{User: domRID(1001)}}
	userCaller  = &Caller{User: "bob", Token: winacl.Token{User: domRID(1002)}}
)

// openBound opens pipe as caller and binds iface on context 0.
func openBound(t testing.TB, s *Server, pipe string, iface *Interface, caller *Caller) *Pipe {
	t.Helper()
	ctx := context.Background()
	p, err := s.Open(ctx, pipe, caller)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _, err := p.Transceive(ctx, bindPDU(iface.uuid, iface.major), buf)
	if err != nil || buf[2] != ptypeBindAck {
		t.Fatalf("bind %s: %v", iface.Name, err)
	}
	ack := buf[:n]
	secLen := int(binary.LittleEndian.Uint16(ack[24:]))
	if res := ack[(26+secLen+3)&^3+4:]; binary.LittleEndian.Uint16(res) != 0 {
		t.Fatalf("bind %s refused", iface.Name)
	}
	return p
}

// invoke calls opnum with stub through the PDU layer and returns the
// response stub (reassembled) or the fault status.
func invoke(t testing.TB, p *Pipe, opnum uint16, stub []byte) ([]byte, uint32) {
	t.Helper()
	ctx := context.Background()
	if err := p.Write(ctx, requestPDU(opnum, stub)); err != nil {
		t.Fatal(err)
	}
	var out []byte
	buf := make([]byte, 8192)
	for {
		n, _, err := p.Read(ctx, buf)
		if err != nil {
			t.Fatalf("opnum %d: %v", opnum, err)
		}
		switch buf[2] {
		case ptypeFault:
			return nil, binary.LittleEndian.Uint32(buf[24:])
		case ptypeResponse:
		default:
			t.Fatalf("opnum %d: PDU type %d", opnum, buf[2])
		}
		out = append(out, buf[24:n]...)
		if buf[3]&pfcLastFrag != 0 {
			return out, 0
		}
	}
}

// lastU32 is the status that ends a response.
func lastU32(b []byte) uint32 {
	if len(b) < 4 {
		return 0xFFFFFFFF
	}
	return binary.LittleEndian.Uint32(b[len(b)-4:])
}

// handleAt returns a context handle written at the start of a response.
func handleAt(t testing.TB, b []byte, off int) [20]byte {
	t.Helper()
	if len(b) < off+20 {
		t.Fatalf("response too short for a handle: %d bytes", len(b))
	}
	return [20]byte(b[off : off+20])
}

// ustrIn writes an RPC_UNICODE_STRING passed by itself.
func (w *writer) ustrIn(s string) {
	w.ustrHead(s)
	w.ustrBody(s)
}
