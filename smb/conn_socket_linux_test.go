package smb

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// unsafeBytes is the memory an iovec names.
func unsafeBytes(v unix.Iovec) []byte { return unsafe.Slice(v.Base, v.Len) }

// tcpPair is a connected pair of loopback TCP connections.
func tcpPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc := <-accepted
	if sc == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { sc.Close(); cc.Close() })
	return sc.(*net.TCPConn), cc.(*net.TCPConn)
}

// Messages written through directTCP over a TCP socket arrive whole and
// in order, whether small (raw writev) or large (through the net.Conn),
// and are read back whole on the other side through the raw reads.
func TestRawSocketMessagesRoundTrip(t *testing.T) {
	sc, cc := tcpPair(t)
	w := &directTCP{w: sc, raw: newRawSocket(sc)}
	raw := newRawSocket(cc)
	if w.raw == nil || raw == nil {
		t.Fatal("no raw socket for a TCP connection")
	}
	rd := &idleReader{c: &conn{nc: cc}, raw: raw}
	r := &directTCP{r: rd}
	sizes := []int{68, 4, 4000, rawSocketMax - 4, rawSocketMax, 3 * rawSocketMax, 200}
	msgs := make([][]byte, len(sizes))
	for i, n := range sizes {
		msgs[i] = bytes.Repeat([]byte{byte(i + 1)}, n)
	}
	written := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			// A message in two parts, as a response and its data.
			if err := w.writeMessage(net.Buffers{m[:len(m)/2], m[len(m)/2:]}); err != nil {
				written <- err
				return
			}
		}
		written <- sc.Close()
	}()
	for i, m := range msgs {
		got, release, err := r.readMessage(maxFrameSize)
		if err != nil {
			t.Fatalf("read message %d: %v", i, err)
		}
		if !bytes.Equal(got, m) {
			t.Fatalf("message %d: %d bytes back, want %d", i, len(got), len(m))
		}
		release()
	}
	if err := <-written; err != nil {
		t.Fatalf("write: %v", err)
	}
	if _, _, err := r.readMessage(maxFrameSize); !errors.Is(err, io.EOF) {
		t.Errorf("after the peer closed: %v, want EOF", err)
	}
}

// A raw write into a socket whose buffer is full waits for the peer to
// read, then finishes: nothing is lost or written twice.
func TestRawSocketWriteWaitsForRoom(t *testing.T) {
	sc, cc := tcpPair(t)
	// Fill the socket's buffers (the peer reads nothing yet).
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 64<<10)
	filled := 0
	rc.Write(func(fd uintptr) bool {
		for {
			n, err := unix.Write(int(fd), junk)
			if err != nil {
				return true // EAGAIN: full
			}
			filled += n
		}
	})
	if filled == 0 {
		t.Fatal("could not fill the socket's buffer")
	}
	w := &directTCP{w: sc, raw: newRawSocket(sc)}
	msg := make([]byte, rawSocketMax-4)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	done := make(chan error, 1)
	go func() { done <- w.writeMessage(net.Buffers{msg[:100], msg[100:]}) }()
	select {
	case err := <-done:
		t.Fatalf("the write finished (%v) while the socket's buffer was full", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := io.ReadFull(cc, make([]byte, filled)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4+len(msg))
	if _, err := io.ReadFull(cc, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("write: %v", err)
	}
	if n := int(got[1])<<16 | int(got[2])<<8 | int(got[3]); n != len(msg) {
		t.Fatalf("frame header says %d bytes, want %d", n, len(msg))
	}
	if !bytes.Equal(got[4:], msg) {
		t.Fatal("the message came back changed")
	}
}

// A raw read honours the connection's read deadline with a timeout that
// the idle reader recognises (net.Error.Timeout), and a deadline set
// while the read waits ends it.
func TestRawSocketReadDeadline(t *testing.T) {
	_, cc := tcpPair(t)
	raw := newRawSocket(cc)
	cc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, ok, err := raw.read(make([]byte, 16))
	var ne net.Error
	if !ok || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: ok %v, err %v; want a timeout", ok, err)
	}
	cc.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, _, err := raw.read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cc.SetReadDeadline(time.Now())
	if err := <-done; !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read ended by a new deadline: %v, want a timeout", err)
	}
}

// A read too large for a raw call is left to the net.Conn.
func TestRawSocketLeavesLargeReads(t *testing.T) {
	_, cc := tcpPair(t)
	if _, ok, _ := newRawSocket(cc).read(make([]byte, rawSocketMax+1)); ok {
		t.Fatal("a read larger than rawSocketMax was made raw")
	}
	if newRawSocket(nil) != nil {
		t.Fatal("a raw socket for a connection that is not TCP")
	}
}

// advance drops written bytes across and within the parts of a writev.
func TestRawSocketAdvance(t *testing.T) {
	a, b, c := []byte("abcd"), []byte("ef"), []byte("ghijk")
	s := &rawSocket{}
	for _, p := range [][]byte{a, b, c} {
		v := unix.Iovec{Base: &p[0]}
		v.SetLen(len(p))
		s.iovs = append(s.iovs, v)
	}
	rest := func() string {
		var out []byte
		for _, v := range s.iovs {
			out = append(out, unsafeBytes(v)...)
		}
		return string(out)
	}
	for _, step := range []struct {
		n    int
		want string
	}{{1, "bcdefghijk"}, {3, "efghijk"}, {3, "hijk"}, {4, ""}} {
		s.advance(step.n)
		if got := rest(); got != step.want {
			t.Fatalf("after %d more bytes: %q left, want %q", step.n, got, step.want)
		}
	}
}

// Raw reads and writes of small messages allocate nothing.
func TestRawSocketAllocs(t *testing.T) {
	sc, cc := tcpPair(t)
	w := &directTCP{w: sc, raw: newRawSocket(sc)}
	raw := newRawSocket(cc)
	msg := net.Buffers{make([]byte, 64), make([]byte, 36)}
	buf := make([]byte, 104)
	allocs := testing.AllocsPerRun(200, func() {
		if err := w.writeMessage(msg); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < len(buf); {
			n, _, err := raw.read(buf[got:])
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per message written and read, want 0", allocs)
	}
}
