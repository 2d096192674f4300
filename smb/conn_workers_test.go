package smb

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// A request the connection's reader serves itself (a lone QUERY_INFO, with
// nothing else in progress) and that then waits does not stop the
// connection: a later request on the same connection is read and served
// while it waits, as a break acknowledgment must be while a CREATE waits
// for it. Here a layer holds the QUERY_INFO until it sees an ECHO sent
// after it; were the reading stuck behind the QUERY_INFO, the ECHO would
// never arrive and the layer would give up after its bound.
func TestWaitingRequestDoesNotStopItsConnection(t *testing.T) {
	started := make(chan struct{}, 1)
	echoed := make(chan struct{}, 1)
	releasedByEcho := make(chan bool, 1)
	hold := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			switch req.Header.Command {
			case smb2.QueryInfo:
				started <- struct{}{}
				select {
				case <-echoed:
					releasedByEcho <- true
				case <-time.After(10 * time.Second):
					releasedByEcho <- false
				}
			case smb2.Echo:
				select {
				case echoed <- struct{}{}:
				default:
				}
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{hold},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	f := w.open("f", smb2.GenericAll, 0)
	for round := range 3 {
		// A bound, so that a stuck connection fails the test rather than
		// hanging it: the answers are written to a net.Pipe, which blocks
		// its writer until the client reads.
		w.c.SetDeadline(time.Now().Add(30 * time.Second))
		q := w.send(smb2.QueryInfo, queryInfoBody(f, fscc.FileBasicInformation, 64))
		<-started // read, and being served, before the ECHO is sent
		e := w.send(smb2.Echo, echoBody)
		got := w.answers(2)
		if got[q] != smb2.StatusSuccess || got[e] != smb2.StatusSuccess {
			t.Fatalf("round %d: QUERY_INFO %v, ECHO %v; want both to succeed", round, got[q], got[e])
		}
		if !<-releasedByEcho {
			t.Fatalf("round %d: the ECHO was not read while the QUERY_INFO waited", round)
		}
	}
}

// queryInfoBody is a QUERY_INFO of a file information class.
func queryInfoBody(f smb2.FileID, class uint8, size uint32) []byte {
	b := make([]byte, 41)
	le16(b, 41)
	b[2], b[3] = smb2.InfoFile, class
	le32(b[4:], size)
	putFID(b[24:], f)
	return b
}

// A connection whose reader served requests itself idles, once it has
// waited readerParkAfter, on a goroutine with a fresh stack: serving grows
// a stack that the runtime never shrinks back, so without the hand-over
// every connection that had ever served a CREATE would keep that stack for
// as long as it idles.
func TestIdleConnectionsDropTheirGrownStacks(t *testing.T) {
	defer readerParkAfter.Store(readerParkAfter.Swap(int64(20 * time.Millisecond)))
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	const conns = 200
	stacks := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.StackInuse)
	}
	var ws []*wireClient
	for range conns {
		ws = append(ws, connectNTLM(t, srv, "s"))
	}
	before := stacks()
	for i, w := range ws {
		f := w.open(fmt.Sprintf("f%d", i), smb2.GenericAll, 0)
		w.queryInfo(f, fscc.FileAllInformation, 4096)
		w.closeFile(f)
	}
	grown := stacks()
	// Wait, with a bound, for the readers to hand their waits over.
	var after int64
	for range 100 {
		time.Sleep(50 * time.Millisecond)
		if after = stacks(); after-before < conns*1024 {
			break
		}
	}
	t.Logf("stacks: %d KiB before, %d KiB after serving, %d KiB idle again (%d connections)",
		before>>10, grown>>10, after>>10, conns)
	if per := (after - before) / conns; per >= 1024 {
		t.Fatalf("idle connections keep %d bytes of stack each after serving a CREATE", per)
	}
	// They still serve.
	for _, w := range ws {
		if h, _ := w.roundTrip(smb2.Echo, echoBody, true, false); h.Status != 0 {
			t.Fatalf("ECHO after idling: %v", smb2.Status(h.Status))
		}
	}
}

// The reader serves itself a lone quick request or a short compound of
// them (a stat: CREATE, QUERY_INFO, CLOSE), nothing else.
func TestServedInline(t *testing.T) {
	msg := func(cmds ...smb2.Command) []byte {
		var out []byte
		for i, cmd := range cmds {
			b := make([]byte, smb2.HeaderSize+8)
			h := smb2.Header{Command: cmd}
			if i < len(cmds)-1 {
				h.NextCommand = uint32(len(b))
			}
			h.Encode(b)
			out = append(out, b...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		msg  []byte
		want bool
	}{
		{"create", msg(smb2.Create), true},
		{"echo", msg(smb2.Echo), true},
		{"stat compound", msg(smb2.Create, smb2.QueryInfo, smb2.Close), true},
		{"read", msg(smb2.Read), false},
		{"write", msg(smb2.Write), false},
		{"lock", msg(smb2.Lock), false},
		{"change notify", msg(smb2.ChangeNotify), false},
		{"compound with a read", msg(smb2.Create, smb2.Read, smb2.Close), false},
		{"long compound", msg(smb2.Create, smb2.QueryInfo, smb2.QueryInfo, smb2.QueryInfo, smb2.Close), false},
		{"truncated chain", msg(smb2.Create, smb2.Close)[:smb2.HeaderSize+8+10], false},
		{"short", msg(smb2.Create)[:20], false},
	} {
		if got := servedInline(tc.msg); got != tc.want {
			t.Errorf("%s: servedInline = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A request served by the reader that is about to wait for a break
// acknowledgment (readingMayWait) hands the reading on at once, not when
// the watch finds it waiting; the connection goes on serving.
func TestReadingMayWaitHandsTheReadingOn(t *testing.T) {
	type seen struct{ before, after uint64 }
	got := make(chan seen, 1)
	hold := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			if req.Header.Command == smb2.QueryInfo {
				w := &req.conn.inline
				s := seen{before: w.tok.Load()}
				readingMayWait(ctx)
				s.after = w.tok.Load()
				got <- s
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{hold},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	f := w.open("f", smb2.GenericAll, 0)
	for round := range 3 {
		w.c.SetDeadline(time.Now().Add(30 * time.Second))
		w.queryInfo(f, fscc.FileBasicInformation, 64)
		s := <-got
		if s.before == 0 {
			t.Fatalf("round %d: the QUERY_INFO was not served by the reader", round)
		}
		if s.after != 0 {
			t.Fatalf("round %d: the reader still holds the reading after readingMayWait", round)
		}
	}
	w.closeFile(f)
}
