package smb_test

import (
	"context"
	"net"
	"sync"
	"testing"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// serveOn starts srv on a loopback listener and returns a function that
// logs a go-smb2 client on as alice.
func serveOn(t *testing.T, srv *smb.Server) func() *gosmb2.Session {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return func() *gosmb2.Session {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: "alice", Password: "secret"}}
		s, err := d.Dial(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() }) // a Logoff could wait forever on a server gone
		return s
	}
}

var alice = auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "secret"})))

// A share added to a ShareSet is reachable at once; a share removed from
// it refuses new tree connects while a tree connect made before keeps
// working, and a share kept keeps its open files' state.
func TestShareSetReload(t *testing.T) {
	a := &smb.Share{Name: "a", FS: vfs.NewMem()}
	set := smb.NewShareSet(a)
	login := serveOn(t, &smb.Server{ShareSource: set, Auth: alice})
	s := login()

	shA, err := s.Mount("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mount("b"); err == nil {
		t.Fatal("share b reachable before it was added")
	}
	f, err := shA.Create("kept.txt")
	if err != nil {
		t.Fatal(err)
	}
	b := &smb.Share{Name: "b", FS: vfs.NewMem()}
	set.Set(a, b)
	shB, err := s.Mount("b")
	if err != nil {
		t.Fatalf("share b after it was added: %v", err)
	}
	if err := shB.WriteFile("new.txt", []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}

	set.Set(b) // a goes
	if _, err := s.Mount("a"); err == nil {
		t.Fatal("removed share a still takes new tree connects")
	}
	if _, err := f.Write([]byte("still open")); err != nil {
		t.Fatalf("write through a tree connect made before the removal: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := shA.ReadFile("kept.txt")
	if err != nil || string(got) != "still open" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if got, err := shB.ReadFile("new.txt"); err != nil || string(got) != "hello" {
		t.Fatalf("share b: %q, %v", got, err)
	}
	names, err := s.ListSharenames()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "b" && names[1] != "b" {
		t.Fatalf("share listing %v, want b and IPC$", names)
	}
}

// ctxKey marks the base context.
type ctxKey struct{}

// BaseContext's values reach the requests' contexts, and ConnState sees a
// connection accepted, authenticated and closed.
func TestServerContextAndConnState(t *testing.T) {
	var mu sync.Mutex
	var states []smb.ConnState
	seen := make(chan any, 100)
	srv := &smb.Server{
		Shares:      []smb.Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:        alice,
		BaseContext: func(net.Listener) context.Context { return context.WithValue(context.Background(), ctxKey{}, "base") },
		ConnState: func(_ net.Conn, st smb.ConnState) {
			mu.Lock()
			states = append(states, st)
			mu.Unlock()
		},
		Layers: []smb.Layer{func(next smb.Handler) smb.Handler {
			return smb.HandlerFunc(func(ctx context.Context, req *smb.Request) *smb.Response {
				seen <- ctx.Value(ctxKey{})
				return next.ServeSMB(ctx, req)
			})
		}},
	}
	login := serveOn(t, srv)
	s := login()
	sh, err := s.Mount("s")
	if err != nil {
		t.Fatal(err)
	}
	sh.Umount()
	if v := <-seen; v != "base" {
		t.Fatalf("request context value %v, want base", v)
	}
	s.Logoff()
	if err := srv.Shutdown(context.Background()); err != nil { // returns once every connection is gone
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []smb.ConnState{smb.StateNew, smb.StateAuthenticated, smb.StateClosed}
	if len(states) != len(want) || states[0] != want[0] || states[1] != want[1] || states[2] != want[2] {
		t.Fatalf("connection states %v, want %v", states, want)
	}
}
