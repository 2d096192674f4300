package smbtest_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	smb2c "github.com/cloudsoda/go-smb2"

	"github.com/cifsd/cifsd/smb/smbtest"
	"github.com/cifsd/cifsd/smb2"
)

// connect logs a cloudsoda/go-smb2 client on to ts over c and mounts its
// share.
func connect(t *testing.T, ts *smbtest.Server, c net.Conn) (*smb2c.Session, *smb2c.Share) {
	t.Helper()
	d := &smb2c.Dialer{Initiator: &smb2c.NTLMInitiator{User: ts.User, Password: ts.Password}}
	s, err := d.DialConn(context.Background(), c, ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	share, err := s.Mount(ts.Share)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Logoff() })
	return s, share
}

func dial(t *testing.T, ts *smbtest.Server) (*smb2c.Session, *smb2c.Share) {
	t.Helper()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return connect(t, ts, c)
}

// ntStatus is the NT status of a client error, 0 when it has none.
func ntStatus(err error) smb2.Status {
	var re *smb2c.ResponseError
	if errors.As(err, &re) {
		return smb2.Status(re.Code)
	}
	return 0
}

func newServer(t *testing.T) *smbtest.Server {
	t.Helper()
	ts := smbtest.NewServer()
	t.Cleanup(ts.Close)
	return ts
}

func TestFailNext(t *testing.T) {
	ts := newServer(t)
	_, share := dial(t, ts)
	if err := share.WriteFile("f", []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	ts.FailNext(smb2.Create, smb2.StatusInsufficientResources)
	_, err := share.Stat("f")
	if st := ntStatus(err); st != smb2.StatusInsufficientResources {
		t.Fatalf("Stat with a failure armed: %v (status %v), want STATUS_INSUFFICIENT_RESOURCES", err, st)
	}
	if _, err := share.Stat("f"); err != nil {
		t.Fatalf("Stat after the failure: %v", err)
	}
}

func TestFailAfter(t *testing.T) {
	ts := newServer(t)
	_, share := dial(t, ts)
	ts.FailAfter(1, smb2.Write, smb2.StatusDiskFull)
	f, err := share.Create("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("first")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	_, err = f.Write([]byte("second"))
	if st := ntStatus(err); st != smb2.StatusDiskFull {
		t.Fatalf("second write: %v (status %v), want STATUS_DISK_FULL", err, st)
	}
	if _, err := f.Write([]byte("third")); err != nil {
		t.Fatalf("third write: %v", err)
	}
}

func TestDelayAfter(t *testing.T) {
	ts := newServer(t)
	s, _ := dial(t, ts)
	ts.DelayAfter(1, time.Hour)
	if err := s.Echo(); err != nil {
		t.Fatalf("echo before the delay starts: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.WithContext(ctx).Echo(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed echo: %v, want the client's deadline to pass first", err)
	}
	ts.ClearFaults()
	if err := s.Echo(); err != nil {
		t.Fatalf("echo after ClearFaults: %v", err)
	}
}

func TestDropAfter(t *testing.T) {
	ts := newServer(t)
	s, _ := dial(t, ts)
	ts.DropAfter(2)
	for i := range 2 {
		if err := s.Echo(); err != nil {
			t.Fatalf("echo %d before the drop: %v", i, err)
		}
	}
	if err := s.Echo(); err == nil {
		t.Fatal("echo on a dropped connection succeeded")
	}
	// A new connection is served.
	s2, share := dial(t, ts)
	if err := s2.Echo(); err != nil {
		t.Fatal(err)
	}
	if _, err := share.ReadDir("."); err != nil {
		t.Fatal(err)
	}
}

func TestExpireSessions(t *testing.T) {
	ts := newServer(t)
	s, share := dial(t, ts)
	if err := share.WriteFile("f", []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := ts.ExpireSessions(); n != 1 {
		t.Fatalf("ExpireSessions expired %d sessions, want 1", n)
	}
	_, err := share.ReadFile("f")
	if st := ntStatus(err); st != smb2.StatusNetworkSessionExpired {
		t.Fatalf("read on an expired session: %v (status %v), want STATUS_NETWORK_SESSION_EXPIRED", err, st)
	}
	if err := s.Echo(); err != nil {
		t.Fatalf("ECHO is allowed on an expired session: %v", err)
	}
	// Another logon is not expired.
	_, share2 := dial(t, ts)
	if _, err := share2.ReadFile("f"); err != nil {
		t.Fatal(err)
	}
}

// tap watches what the server sends on a connection for a notification
// of command cmd.
type tap struct {
	net.Conn
	cmd  smb2.Command
	seen chan []byte

	mu  sync.Mutex
	buf []byte
}

func (c *tap) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, b[:n]...)
	for len(c.buf) >= 4 {
		size := int(binary.BigEndian.Uint32(c.buf) & 0xFFFFFF)
		if len(c.buf) < 4+size {
			break
		}
		msg := c.buf[4 : 4+size]
		c.buf = c.buf[4+size:]
		if len(msg) >= smb2.HeaderSize && string(msg[:4]) == "\xfeSMB" &&
			smb2.Command(binary.LittleEndian.Uint16(msg[12:])) == c.cmd &&
			binary.LittleEndian.Uint64(msg[24:]) == ^uint64(0) {
			select {
			case c.seen <- append([]byte(nil), msg...):
			default:
			}
		}
	}
	return n, err
}

func TestBreakLeases(t *testing.T) {
	ts := newServer(t)
	nc, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc := &tap{Conn: nc, cmd: smb2.OplockBreak, seen: make(chan []byte, 1)}
	_, share := connect(t, ts, tc)
	if err := share.WriteFile("f", []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	// go-smb2 asks for no oplock: have it granted one.
	ts.GrantOplocks(smb2.OplockLevelII)
	f, err := share.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts.GrantOplocks(0)

	if n := ts.BreakLeases(context.Background(), "F"); n != 1 {
		t.Fatalf("BreakLeases broke %d opens, want 1", n)
	}
	select {
	case msg := <-tc.seen:
		// MS-SMB2 2.2.23.1: OplockLevel is byte 2 of the body.
		if lvl := msg[smb2.HeaderSize+2]; lvl != smb2.OplockLevelNone {
			t.Errorf("break to oplock level %d, want none", lvl)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client got no OPLOCK_BREAK notification")
	}
	// The client is still served, and the oplock is gone.
	buf := make([]byte, 4)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "data" {
		t.Fatalf("read after the break: %q, %v", buf, err)
	}
	if n := ts.BreakLeases(context.Background(), "f"); n != 0 {
		t.Fatalf("second BreakLeases broke %d opens, want 0", n)
	}
}
