package smbtest

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb2"
)

// Faults a test injects into the server on demand. They act through a
// smb.Layer the server puts first in Config.Layers when it starts, so
// they see the requests that reach the application's layers: every
// request of a valid session, NEGOTIATE and SESSION_SETUP (not those the
// server refuses before, such as a request of an unknown session).
//
// Request counts run from the call that arms a fault and cover every
// connection of the server: a test with one client counts that client's
// requests.

// AnyCommand makes a fault match requests of every command.
const AnyCommand smb2.Command = 0xFFFF

// fault is one armed fault.
type fault struct {
	cmd   smb2.Command // or AnyCommand
	skip  int          // matching requests still to let through
	fail  smb2.Status  // answer with this status (when not 0)
	delay time.Duration
	drop  bool
	once  bool // disarm after firing
}

type faults struct {
	mu    sync.Mutex
	list  []*fault
	conns map[string]net.Conn // the server's connections by client address
	// oplock is the oplock level asked for on behalf of clients that ask
	// for none (GrantOplocks).
	oplock uint8
}

func (f *faults) arm(x *fault) {
	f.mu.Lock()
	f.list = append(f.list, x)
	f.mu.Unlock()
}

// next returns the fault that fires for a request of cmd, counting the
// request against every armed fault that matches it.
func (f *faults) next(cmd smb2.Command) *fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var fire *fault
	kept := f.list[:0]
	for _, x := range f.list {
		if x.cmd == AnyCommand || x.cmd == cmd {
			if x.skip > 0 {
				x.skip--
			} else if fire == nil {
				fire = x
				if x.once {
					continue
				}
			}
		}
		kept = append(kept, x)
	}
	clear(f.list[len(kept):])
	f.list = kept
	return fire
}

// layer answers, delays or drops requests as the armed faults say.
func (f *faults) layer(next smb.Handler) smb.Handler {
	return smb.HandlerFunc(func(ctx context.Context, req *smb.Request) *smb.Response {
		cmd := req.Header.Command
		if cmd == smb2.Create {
			f.mu.Lock()
			level := f.oplock
			f.mu.Unlock()
			// RequestedOplockLevel is byte 3 of the body (MS-SMB2 2.2.13).
			const at = smb2.HeaderSize + 3
			if level != 0 && len(req.Msg) > at && req.Msg[at] == smb2.OplockLevelNone {
				req.Msg[at] = level
			}
		}
		x := f.next(cmd)
		if x == nil {
			return next.ServeSMB(ctx, req)
		}
		if x.delay > 0 {
			t := time.NewTimer(x.delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if x.drop {
			f.mu.Lock()
			c := f.conns[req.RemoteAddr()]
			f.mu.Unlock()
			if c != nil {
				c.Close()
			}
			return &smb.Response{Status: smb2.StatusNetworkNameDeleted} // never delivered
		}
		if x.fail != 0 {
			return &smb.Response{Status: x.fail}
		}
		return next.ServeSMB(ctx, req)
	})
}

// trackingListener remembers the connections it accepted, by the
// client's address, so that a fault can drop one.
type trackingListener struct {
	net.Listener
	f *faults
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, f: l.f, addr: c.RemoteAddr().String()}
	l.f.mu.Lock()
	if l.f.conns == nil {
		l.f.conns = make(map[string]net.Conn)
	}
	l.f.conns[tc.addr] = tc
	l.f.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	f    *faults
	addr string
}

func (c *trackedConn) Close() error {
	c.f.mu.Lock()
	if c.f.conns[c.addr] == c {
		delete(c.f.conns, c.addr)
	}
	c.f.mu.Unlock()
	return c.Conn.Close()
}

// FailNext makes the next request of command cmd (AnyCommand: of any
// command) fail with the NT status st instead of being served. Later
// requests are served again.
func (ts *Server) FailNext(cmd smb2.Command, st smb2.Status) {
	ts.faults.arm(&fault{cmd: cmd, fail: st, once: true})
}

// FailAfter lets n requests of command cmd (AnyCommand: of any command)
// through, then fails the next one with st.
func (ts *Server) FailAfter(n int, cmd smb2.Command, st smb2.Status) {
	ts.faults.arm(&fault{cmd: cmd, skip: n, fail: st, once: true})
}

// DelayAfter lets n requests through, then holds every later request for
// d before serving it (or until its connection closes), until ClearFaults.
func (ts *Server) DelayAfter(n int, d time.Duration) {
	ts.faults.arm(&fault{cmd: AnyCommand, skip: n, delay: d})
}

// DropAfter lets n requests through, then closes, without an answer, the
// connection that sends the next one, as a server that crashed or a
// network that failed would. Later connections are served.
func (ts *Server) DropAfter(n int) {
	ts.faults.arm(&fault{cmd: AnyCommand, skip: n, drop: true, once: true})
}

// ClearFaults disarms every fault armed and not yet fired, and
// GrantOplocks.
func (ts *Server) ClearFaults() {
	ts.faults.mu.Lock()
	ts.faults.list = nil
	ts.faults.oplock = 0
	ts.faults.mu.Unlock()
}

// GrantOplocks makes every CREATE that asks for no oplock ask for level
// (smb2.OplockLevelII, OplockLevelExclusive or OplockLevelBatch) instead,
// so that a client that never asks for oplocks can be tested against the
// breaks BreakLeases sends. Zero turns it off.
func (ts *Server) GrantOplocks(level uint8) {
	ts.faults.mu.Lock()
	ts.faults.oplock = level
	ts.faults.mu.Unlock()
}

// BreakLeases breaks every lease and oplock held on the file name of the
// test share ('/' or '\' separated) to none, as another client's
// conflicting open would: each holder gets a break notification. It waits
// until the holders acknowledge the breaks that need it (a lease with
// write or handle caching, an exclusive or batch oplock), close, or ctx is
// done, and returns the number of opens broken. A break from read
// caching alone needs no acknowledgement.
func (ts *Server) BreakLeases(ctx context.Context, name string) int {
	return ts.Config.BreakCaching(ctx, ts.Share, name, 0)
}

// ExpireSessions makes every session's authentication lapse now, as a
// Kerberos ticket's end does: each later request but re-authentication,
// LOGOFF, CLOSE, unlocks, ECHO and CANCEL gets
// STATUS_NETWORK_SESSION_EXPIRED until the client authenticates again.
// It returns the number of sessions expired.
func (ts *Server) ExpireSessions() int {
	return ts.Config.ExpireSessions("")
}
