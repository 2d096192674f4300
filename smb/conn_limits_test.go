package smb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// refusals counts OnRefusal calls by reason.
type refusals struct {
	mu sync.Mutex
	n  map[RefusalReason]int
}

func (r *refusals) hook(reason RefusalReason, remote string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = make(map[RefusalReason]int)
	}
	r.n[reason]++
}

func (r *refusals) count(reason RefusalReason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[reason]
}

// Past MaxSessionsPerConnection a new session is refused with
// STATUS_INSUFFICIENT_RESOURCES; the sessions already set up keep working
// and a logoff makes room again.
func TestSessionsPerConnectionLimit(t *testing.T) {
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.MaxSessionsPerConnection = 2
	srv.OnRefusal = ref.hook
	w := dial(t, srv)
	var ids []uint64
	for range 2 {
		w.sid = 0
		w.mustSetup("alice", 0)
		ids = append(ids, w.sid)
	}
	w.sid = 0
	if st := w.setup("alice", 0); st != smb2.StatusInsufficientResources {
		t.Fatalf("third session: %v, want STATUS_INSUFFICIENT_RESOURCES", st)
	}
	if n := ref.count(RefusedSessions); n != 1 {
		t.Errorf("refusals counted: %d, want 1", n)
	}
	w.sid = ids[0]
	if st := w.status(smb2.Echo, echoBody); st != smb2.StatusSuccess {
		t.Fatalf("echo on an admitted session: %v", st)
	}
	if st := w.status(smb2.Logoff, []byte{4, 0, 0, 0}); st != smb2.StatusSuccess {
		t.Fatalf("logoff: %v", st)
	}
	w.sid = 0
	if st := w.setup("alice", 0); st != smb2.StatusSuccess {
		t.Fatalf("session after a logoff: %v", st)
	}
}

// Past MaxOpensPerSession CREATE fails with STATUS_INSUFFICIENT_RESOURCES
// and creates nothing; closing a handle makes room again.
func TestOpensPerSessionLimit(t *testing.T) {
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.MaxOpensPerSession = 2
	srv.OnRefusal = ref.hook
	w := dial(t, srv)
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	a := w.open("a", smb2.GenericAll, 0)
	w.open("b", smb2.GenericAll, 0)
	if st := w.createRaw("c", smb2.GenericAll, 0, smb2.FileCreate, 0, "", nil); st != smb2.StatusInsufficientResources {
		t.Fatalf("third open: %v, want STATUS_INSUFFICIENT_RESOURCES", st)
	}
	if _, err := srv.Shares[0].FS.Stat(context.Background(), "c"); err == nil {
		t.Error("a refused CREATE made the file")
	}
	if n := ref.count(RefusedOpens); n != 1 {
		t.Errorf("refusals counted: %d, want 1", n)
	}
	w.closeFile(a)
	if st := w.createRaw("c", smb2.GenericAll, 0, smb2.FileCreate, 0, "", nil); st != smb2.StatusSuccess {
		t.Fatalf("open after a close: %v", st)
	}
}

// Past MaxAsyncPerConnection a request that would wait (CHANGE_NOTIFY)
// fails with STATUS_INSUFFICIENT_RESOURCES instead of going async.
func TestAsyncPerConnectionLimit(t *testing.T) {
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.MaxAsyncPerConnection = 1
	srv.OnRefusal = ref.hook
	w := dial(t, srv)
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	d := w.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	w.pendingNotify(d, notifyChangeFileName)
	h, _ := w.roundTrip(smb2.ChangeNotify, notifyBody(d, notifyChangeFileName), false, false)
	if st := smb2.Status(h.Status); st != smb2.StatusInsufficientResources {
		t.Fatalf("second CHANGE_NOTIFY: %v, want STATUS_INSUFFICIENT_RESOURCES", st)
	}
	if n := ref.count(RefusedAsync); n != 1 {
		t.Errorf("refusals counted: %d, want 1", n)
	}
}

// A connection's in-flight bytes wait at MaxInFlightBytes: a frame that
// does not fit waits until an earlier one is done.
func TestInFlightBytesLimit(t *testing.T) {
	srv := &Server{Limits: Limits{MaxInFlightBytes: 100}}
	var b byteBudget
	b.limit = srv.inFlightLimit()
	b.acquire(60)
	b.acquire(40) // exactly the limit
	acquired := make(chan struct{})
	go func() { b.acquire(10); close(acquired) }()
	select {
	case <-acquired:
		t.Fatal("a frame past the limit was admitted while the budget is full")
	default:
	}
	b.release(60)
	<-acquired // admitted once an earlier frame is done
	if (&Server{}).inFlightLimit() != maxInFlightBytes {
		t.Error("zero MaxInFlightBytes does not take the default")
	}
	if (&Server{Limits: Limits{MaxInFlightBytes: -1}}).inFlightLimit() != 0 {
		t.Error("negative MaxInFlightBytes is not unlimited")
	}
}

// listen serves srv on a loopback TCP port and returns its address.
func listen(t *testing.T, srv *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// dialFrom connects to addr from the loopback address from (127.0.0.2
// is another client address to the server).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server closed c: a read ends with
// EOF (or a reset) rather than waiting out a minute.
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Minute))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func tcpClient(t *testing.T, from, addr string) *wireClient {
	return &wireClient{t: t, c: dialFrom(t, from, addr)}
}

// Past MaxConnectionsPerIP a client address's next connection is closed
// at once; other addresses are still served, and a connection that ends
// makes room for its address again.
func TestConnectionsPerIPLimit(t *testing.T) {
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.MaxConnectionsPerIP = 2
	srv.OnRefusal = ref.hook
	addr := listen(t, srv)
	a := tcpClient(t, "127.0.0.2", addr)
	a.negotiate302(0, 1)
	b := tcpClient(t, "127.0.0.2", addr)
	b.negotiate302(0, 2)
	over := dialFrom(t, "127.0.0.2", addr)
	if !closedByServer(over) {
		t.Fatal("a third connection from one address was not closed")
	}
	if n := ref.count(RefusedConnectionsPerIP); n != 1 {
		t.Errorf("refusals counted: %d, want 1", n)
	}
	other := tcpClient(t, "127.0.0.1", addr)
	other.negotiate302(0, 3)
	other.mustSetup("alice", 0)

	a.c.Close()
	// The server counts a out once it sees the close; retry until then.
	for i := 0; ; i++ {
		c := dialFrom(t, "127.0.0.2", addr)
		w := &wireClient{t: t, c: c}
		if ok := tryNegotiate(w); ok {
			break
		}
		if i == 1000 {
			t.Fatal("the address got no room back after one of its connections closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tryNegotiate reports whether a NEGOTIATE on w is answered.
func tryNegotiate(w *wireClient) bool {
	neg := make([]byte, 38)
	neg[0], neg[2], neg[4] = 36, 1, byte(smb2.NegotiateSigningEnabled)
	d := smb2.Dialect302
	neg[36], neg[37] = byte(d), byte(d>>8)
	msg := make([]byte, smb2.HeaderSize+len(neg))
	h := smb2.Header{Command: smb2.Negotiate, Credits: 1}
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], neg)
	frame := append([]byte{0, 0, byte(len(msg) >> 8), byte(len(msg))}, msg...)
	if _, err := w.c.Write(frame); err != nil {
		return false
	}
	var hdr [4]byte
	_, err := io.ReadFull(w.c, hdr[:])
	return err == nil
}

// Past MaxConnections every new connection is closed at once, whatever
// its address.
func TestMaxConnectionsLimit(t *testing.T) {
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.MaxConnections = 1
	srv.OnRefusal = ref.hook
	addr := listen(t, srv)
	a := tcpClient(t, "127.0.0.1", addr)
	a.negotiate302(0, 1)
	if !closedByServer(dialFrom(t, "127.0.0.2", addr)) {
		t.Fatal("a connection past MaxConnections was not closed")
	}
	if n := ref.count(RefusedConnections); n != 1 {
		t.Errorf("refusals counted: %d, want 1", n)
	}
	a.mustSetup("alice", 0) // the admitted one still works
}

// Connections that never finish a handshake (silent, trickling bytes,
// negotiated but never authenticated) are closed when HandshakeTimeout
// runs out; an authenticated one is not.
func TestHandshakeTimeout(t *testing.T) {
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.HandshakeTimeout = 200 * time.Millisecond
	srv.OnRefusal = ref.hook
	addr := listen(t, srv)

	authed := tcpClient(t, "127.0.0.1", addr) // accepted first: its timer runs out first
	authed.negotiate302(0, 1)
	authed.mustSetup("alice", 0)
	silent := dialFrom(t, "127.0.0.2", addr)
	trickle := dialFrom(t, "127.0.0.2", addr)
	trickle.Write([]byte{0, 0}) // half a frame header, and no more
	negotiated := tcpClient(t, "127.0.0.2", addr)
	negotiated.negotiate302(0, 2)

	for name, c := range map[string]net.Conn{"silent": silent, "trickling": trickle, "negotiated": negotiated.c} {
		if !closedByServer(c) {
			t.Errorf("%s connection was not closed by the handshake timeout", name)
		}
	}
	if n := ref.count(RefusedHandshakeTimeout); n != 3 {
		t.Errorf("refusals counted: %d, want 3", n)
	}
	if st := authed.status(smb2.Echo, echoBody); st != smb2.StatusSuccess {
		t.Fatalf("authenticated connection after the handshake timeout: %v", st)
	}
}

// The check: 500 TCP connections that never send NEGOTIATE do not
// stop a real client from working, and are all closed by the handshake
// timeout (short here), leaving the server no connection to hold.
func TestSilentConnectionsDoNotStopClients(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 500 connections")
	}
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.HandshakeTimeout = 2 * time.Second
	srv.Limits.MaxConnectionsPerIP = 1000
	srv.OnRefusal = ref.hook
	addr := listen(t, srv)
	const n = 500
	silent := make([]net.Conn, n)
	for i := range silent {
		silent[i] = dialFrom(t, "127.0.0.2", addr)
	}
	w := tcpClient(t, "127.0.0.1", addr)
	w.negotiate302(0, 1)
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatalf("tree connect with %d silent connections open: %v", n, st)
	}
	f := w.open("file", smb2.GenericAll, 0)
	w.write(f, 0, []byte("still served"))
	if got := string(w.read(f, 0, 12)); got != "still served" {
		t.Fatalf("read back %q", got)
	}
	for i, c := range silent {
		if !closedByServer(c) {
			t.Fatalf("silent connection %d was not closed", i)
		}
	}
	if got := ref.count(RefusedHandshakeTimeout); got != n {
		t.Errorf("handshake timeouts counted: %d, want %d", got, n)
	}
	// Once closed the silent connections hold nothing: the real client is
	// the only connection left (the server counts closes as it sees them).
	for i := 0; ; i++ {
		srv.gate.mu.Lock()
		total, perIP := srv.gate.total, len(srv.gate.perIP)
		srv.gate.mu.Unlock()
		if total == 1 && perIP == 1 {
			break
		}
		if i == 3000 { // 30 s: the closes are seen at once on an idle machine
			t.Fatalf("connections still counted: %d from %d addresses, want 1 from 1", total, perIP)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := w.status(smb2.Echo, echoBody); st != smb2.StatusSuccess {
		t.Fatalf("authenticated client after the timeouts: %v", st)
	}
}

// IdleTimeout closes an authenticated connection that holds no open and
// sends nothing; one whose session holds an open stays.
func TestIdleTimeoutSparesConnectionsWithOpens(t *testing.T) {
	srv := newTokenServer(t)
	var ref refusals
	srv.IdleTimeout = 200 * time.Millisecond
	srv.OnRefusal = ref.hook
	addr := listen(t, srv)

	holding := tcpClient(t, "127.0.0.1", addr) // connected first: idle first
	holding.negotiate302(0, 1)
	holding.mustSetup("alice", 0)
	if st := holding.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	f := holding.open("kept", smb2.GenericAll, 0)
	idle := tcpClient(t, "127.0.0.1", addr)
	idle.negotiate302(0, 2)
	idle.mustSetup("bob", 0)
	if st := idle.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	if !closedByServer(idle.c) {
		t.Fatal("an idle connection without opens was not closed")
	}
	if n := ref.count(RefusedIdle); n != 1 {
		t.Errorf("idle timeouts counted: %d, want 1", n)
	}
	holding.write(f, 0, []byte("x")) // still served, past its own idle time
	holding.closeFile(f)
	if !closedByServer(holding.c) {
		t.Fatal("once its last open closed, the idle connection was not closed")
	}
}

// A frame that starts and then stalls, or trickles, after logon ends its
// connection within FrameTimeout; a large WRITE that keeps arriving at
// more than FrameProgressBytes per FrameTimeout is served although it takes
// longer than FrameTimeout; and the other connections are served
// throughout.
func TestFrameTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a frame slowly for seconds")
	}
	srv := newTokenServer(t)
	var ref refusals
	srv.Limits.FrameTimeout = 1500 * time.Millisecond
	srv.OnRefusal = ref.hook
	addr := listen(t, srv)
	login := func(n byte) *wireClient {
		w := tcpClient(t, "127.0.0.1", addr)
		w.negotiate302(0, n)
		w.mustSetup("alice", 0)
		if st := w.tcon("s"); st != smb2.StatusSuccess {
			t.Fatal(st)
		}
		return w
	}
	other := login(1)
	halfHeader := login(2)
	halfFrame := login(3)
	trickle := login(4)
	slow := login(5)
	f := slow.open("slow", smb2.GenericAll, 0)

	halfHeader.c.Write([]byte{0, 0}) // of 4
	echo := halfFrame.rawMsg(smb2.Echo, echoBody)
	frame := append(binary.BigEndian.AppendUint32(nil, uint32(len(echo))), echo...)
	halfFrame.c.Write(frame[:len(frame)/2])
	// One byte of a frame every 100 ms: 68 bytes take 7 s.
	trickleDone := make(chan struct{})
	go func() {
		defer close(trickleDone)
		msg := trickle.rawMsg(smb2.Echo, echoBody)
		for _, b := range append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...) {
			if _, err := trickle.c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	// 512 KiB in 32 KiB pieces every 150 ms: about 2.4 s in all, 64 KiB
	// per 300 ms, five times the rate the timeout asks for.
	data := make([]byte, 512<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	body := make([]byte, 48, 48+len(data))
	binary.LittleEndian.PutUint16(body, 49)
	binary.LittleEndian.PutUint16(body[2:], smb2.HeaderSize+48)
	binary.LittleEndian.PutUint32(body[4:], uint32(len(data)))
	binary.LittleEndian.PutUint64(body[16:], f.Persistent)
	binary.LittleEndian.PutUint64(body[24:], f.Volatile)
	msg := make([]byte, smb2.HeaderSize, smb2.HeaderSize+len(body)+len(data))
	h := smb2.Header{Command: smb2.Write, Credits: 10, CreditCharge: 8, MessageID: slow.mid, SessionID: slow.sid, TreeID: slow.tid}
	slow.mid += 8 // a 512 KiB WRITE charges 8 credits
	h.Encode(msg)
	msg = append(append(msg, body...), data...)
	slow.signMsg(msg)
	wframe := append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)
	for len(wframe) > 0 {
		n := min(len(wframe), 32<<10)
		if _, err := slow.c.Write(wframe[:n]); err != nil {
			t.Fatalf("slow WRITE cut off: %v", err)
		}
		wframe = wframe[n:]
		time.Sleep(150 * time.Millisecond)
		if st := other.status(smb2.Echo, echoBody); st != smb2.StatusSuccess {
			t.Fatalf("another connection while frames stall: %v", st)
		}
	}
	if h, _ := slow.recv(); smb2.Status(h.Status) != smb2.StatusSuccess {
		t.Fatalf("slow WRITE: %v", smb2.Status(h.Status))
	}
	for off := 0; off < len(data); off += 64 << 10 {
		if got := slow.read(f, uint64(off), 64<<10); !bytes.Equal(got, data[off:off+64<<10]) {
			t.Fatalf("slow WRITE: read back other bytes at %d", off)
		}
	}

	for name, c := range map[string]net.Conn{"half a header": halfHeader.c, "half a frame": halfFrame.c, "trickled frame": trickle.c} {
		if !closedByServer(c) {
			t.Errorf("%s: connection not closed", name)
		}
	}
	<-trickleDone
	if n := ref.count(RefusedFrameTimeout); n != 3 {
		t.Errorf("frame timeouts counted: %d, want 3", n)
	}
	if st := other.status(smb2.Echo, echoBody); st != smb2.StatusSuccess {
		t.Fatalf("another connection after the timeouts: %v", st)
	}
}
