package smb

import (
	"context"
	"encoding/asn1"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// tokenMech accepts a one-leg token "USER" or "USER+EXPIRY" (a Go
// duration from now, possibly negative); "bad" fails.
type tokenMech struct{}

func (tokenMech) OIDs() []asn1.ObjectIdentifier { return []asn1.ObjectIdentifier{{1, 2, 3}} }
func (tokenMech) Start(context.Context) (auth.Context, error) {
	return &tokenCtx{}, nil
}

type tokenCtx struct{ res *auth.Result }

func (c *tokenCtx) Accept(_ context.Context, in []byte) ([]byte, bool, error) {
	user, exp, _ := strings.Cut(string(in), "+")
	if user == "bad" {
		return nil, false, auth.ErrLogonFailure
	}
	c.res = &auth.Result{Identity: auth.Identity{User: user}, SessionKey: []byte("0123456789abcdef")}
	if exp != "" {
		d, err := time.ParseDuration(exp)
		if err != nil {
			return nil, false, auth.ErrInvalidToken
		}
		c.res.Expires = time.Now().Add(d)
	}
	return nil, true, nil
}
func (c *tokenCtx) Result() *auth.Result { return c.res }

func newTokenServer(t *testing.T) *Server {
	t.Helper()
	srv := &Server{
		Shares:  []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:    tokenMech{},
		Signing: SigningEnabled,
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func dial(t *testing.T, srv *Server) *wireClient {
	t.Helper()
	w, _ := dialWith(t, srv, 0, 0)
	return w
}

// dialWith connects to srv and negotiates 3.0.2 offering caps, with a
// ClientGuid whose first byte is guid; it returns the NEGOTIATE response.
func dialWith(t *testing.T, srv *Server, caps uint32, guid byte) (*wireClient, []byte) {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close() })
	go srv.ServeConn(server)
	w := &wireClient{t: t, c: client}
	return w, w.negotiate302(caps, guid)
}

// negotiate302 sends a NEGOTIATE for SMB 3.0.2 with signing enabled,
// offering caps, with a ClientGuid whose first byte is guid, and returns
// the response.
func (w *wireClient) negotiate302(caps uint32, guid byte) []byte {
	w.t.Helper()
	neg := make([]byte, 36+2)
	binary.LittleEndian.PutUint16(neg, 36)
	binary.LittleEndian.PutUint16(neg[2:], 1)
	binary.LittleEndian.PutUint16(neg[4:], smb2.NegotiateSigningEnabled)
	binary.LittleEndian.PutUint32(neg[8:], caps)
	neg[12] = guid
	binary.LittleEndian.PutUint16(neg[36:], smb2.Dialect302)
	h, resp := w.roundTrip(smb2.Negotiate, neg, false, false)
	if h.Status != 0 {
		w.t.Fatalf("negotiate: %v", smb2.Status(h.Status))
	}
	return resp
}

// setup sends one SESSION_SETUP with tok on session w.sid.
func (w *wireClient) setup(tok string, prevID uint64) smb2.Status {
	b := make([]byte, 24+len(tok))
	binary.LittleEndian.PutUint16(b, 25)
	binary.LittleEndian.PutUint16(b[12:], smb2.HeaderSize+24)
	binary.LittleEndian.PutUint16(b[14:], uint16(len(tok)))
	binary.LittleEndian.PutUint64(b[16:], prevID)
	copy(b[24:], tok)
	h, _ := w.roundTrip(smb2.SessionSetup, b, false, false)
	if h.Status == 0 {
		w.sid = h.SessionID
	}
	return smb2.Status(h.Status)
}

func (w *wireClient) mustSetup(tok string, prevID uint64) {
	w.t.Helper()
	if st := w.setup(tok, prevID); st != smb2.StatusSuccess {
		w.t.Fatalf("session setup %q: %v", tok, st)
	}
}

func (w *wireClient) status(cmd smb2.Command, body []byte) smb2.Status {
	h, _ := w.roundTrip(cmd, body, false, false)
	return smb2.Status(h.Status)
}

func (w *wireClient) tcon(share string) smb2.Status {
	h, _ := w.treeConnect(share)
	if h.Status == 0 {
		w.tid = h.TreeID
	}
	return smb2.Status(h.Status)
}

var echoBody = []byte{4, 0, 0, 0}

// A session whose authentication lapsed (a Kerberos ticket's end time)
// refuses work with NETWORK_SESSION_EXPIRED until the client
// re-authenticates; ECHO and LOGOFF still work.
func TestSessionExpires(t *testing.T) {
	w := dial(t, newTokenServer(t))
	w.mustSetup("alice+-1s", 0)
	if st := w.tcon("s"); st != smb2.StatusNetworkSessionExpired {
		t.Fatalf("tree connect on an expired session: %v", st)
	}
	if st := w.status(smb2.Echo, echoBody); st != smb2.StatusSuccess {
		t.Fatalf("echo on an expired session: %v", st)
	}
	w.mustSetup("alice+1h", 0) // re-authentication with a fresh ticket
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatalf("tree connect after re-authentication: %v", st)
	}
	if st := w.status(smb2.Logoff, echoBody); st != smb2.StatusSuccess {
		t.Fatalf("logoff: %v", st)
	}
}

// A failed re-authentication deletes the session (MS-SMB2 3.3.5.5.3).
func TestFailedReauthDeletesSession(t *testing.T) {
	w := dial(t, newTokenServer(t))
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	if st := w.setup("bad", 0); st != smb2.StatusLogonFailure {
		t.Fatalf("bad re-authentication: %v", st)
	}
	if st := w.status(smb2.Create, createBody("f.txt")); st != smb2.StatusUserSessionDeleted {
		t.Fatalf("request after failed re-authentication: %v, want USER_SESSION_DELETED", st)
	}
}

// Re-authentication may change the user; the session and its tree stay.
func TestReauthAsOtherUser(t *testing.T) {
	w := dial(t, newTokenServer(t))
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	sid := w.sid
	w.mustSetup("bob", 0)
	if w.sid != sid {
		t.Fatalf("re-authentication moved the session from %#x to %#x", sid, w.sid)
	}
	if st := w.status(smb2.Create, createBody("f.txt")); st != smb2.StatusSuccess {
		t.Fatalf("create after re-authentication: %v", st)
	}
}

// A client reconnecting names its previous session, which ends; another
// user's session named so does not.
func TestReconnectEndsPreviousSession(t *testing.T) {
	srv := newTokenServer(t)
	old := dial(t, srv)
	old.mustSetup("alice", 0)
	if st := old.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	other := dial(t, srv)
	other.mustSetup("bob", old.sid)
	if st := old.status(smb2.Create, createBody("f.txt")); st != smb2.StatusSuccess {
		t.Fatalf("another user's reconnect ended the session: %v", st)
	}
	again := dial(t, srv)
	again.mustSetup("alice", old.sid)
	if st := old.status(smb2.Create, createBody("g.txt")); st != smb2.StatusUserSessionDeleted {
		t.Fatalf("old session after reconnect: %v, want USER_SESSION_DELETED", st)
	}
}

// A session belongs to its connection: its id sent on another connection
// names nothing there (MS-SMB2 3.3.5.2.9), so knowing an id is not using
// the session.
func TestSessionNotUsableFromAnotherConnection(t *testing.T) {
	srv := newTokenServer(t)
	owner := dial(t, srv)
	owner.mustSetup("alice", 0)
	if st := owner.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	thief := dial(t, srv)
	thief.sid, thief.tid = owner.sid, owner.tid
	if st := thief.status(smb2.Create, createBody("stolen.txt")); st != smb2.StatusUserSessionDeleted {
		t.Fatalf("CREATE with another connection's session: %v, want USER_SESSION_DELETED", st)
	}
	if st := thief.tcon("s"); st != smb2.StatusUserSessionDeleted {
		t.Fatalf("TREE_CONNECT with another connection's session: %v", st)
	}
	if st := owner.status(smb2.Create, createBody("mine.txt")); st != smb2.StatusSuccess {
		t.Fatalf("the owner's session stopped working: %v", st)
	}
}
