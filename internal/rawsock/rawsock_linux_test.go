package rawsock

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

// A raw write into a socket whose buffer is full waits for the peer to
// read, then finishes: nothing is lost or written twice.
func TestWriteWaitsForRoom(t *testing.T) {
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
	w := New(sc)
	msg := make([]byte, Max)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	done := make(chan error, 1)
	go func() {
		ok, err := w.Writev([][]byte{msg[:100], msg[100:]})
		if !ok {
			err = errors.New("a write of Max bytes was not made raw")
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("the write finished (%v) while the socket's buffer was full", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := io.ReadFull(cc, make([]byte, filled)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(cc, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the message came back changed")
	}
}

// A raw read honours the connection's read deadline with a timeout that
// the idle reader recognises (net.Error.Timeout), and a deadline set
// while the read waits ends it.
func TestReadDeadline(t *testing.T) {
	_, cc := tcpPair(t)
	raw := New(cc)
	cc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, ok, err := raw.Read(make([]byte, 16))
	var ne net.Error
	if !ok || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: ok %v, err %v; want a timeout", ok, err)
	}
	cc.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, _, err := raw.Read(make([]byte, 16))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cc.SetReadDeadline(time.Now())
	if err := <-done; !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read ended by a new deadline: %v, want a timeout", err)
	}
}

// A read too large for a raw call is left to the net.Conn.
func TestLeavesLargeReads(t *testing.T) {
	_, cc := tcpPair(t)
	if _, ok, _ := New(cc).Read(make([]byte, Max+1)); ok {
		t.Fatal("a read larger than Max was made raw")
	}
	if New(nil) != nil {
		t.Fatal("a raw socket for a connection that is not TCP")
	}
}

// advance drops written bytes across and within the parts of a writev.
func TestAdvance(t *testing.T) {
	a, b, c := []byte("abcd"), []byte("ef"), []byte("ghijk")
	s := &Conn{}
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
func TestAllocs(t *testing.T) {
	sc, cc := tcpPair(t)
	w, r := New(sc), New(cc)
	msg := [][]byte{make([]byte, 64), make([]byte, 36)}
	buf := make([]byte, 100)
	allocs := testing.AllocsPerRun(200, func() {
		if ok, err := w.Writev(msg); !ok || err != nil {
			t.Fatal(ok, err)
		}
		for got := 0; got < len(buf); {
			n, _, err := r.Read(buf[got:])
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

// Bytes written raw, in parts and in several messages, come back whole
// and in order through raw reads; a write of too many parts or too many
// bytes is declined; the peer's close reads as io.EOF.
func TestRoundTrip(t *testing.T) {
	sc, cc := tcpPair(t)
	w, r := New(sc), New(cc)
	if ok, _ := w.Writev(make([][]byte, MaxVecs+1)); ok {
		t.Error("a write of more than MaxVecs parts was made raw")
	}
	if ok, _ := w.Writev([][]byte{make([]byte, Max), {1}}); ok {
		t.Error("a write of more than Max bytes was made raw")
	}
	for i, n := range []int{1, 100, 4000, Max} {
		m := bytes.Repeat([]byte{byte(i + 1)}, n)
		if ok, err := w.Writev([][]byte{m[:n/2], nil, m[n/2:]}); !ok || err != nil {
			t.Fatalf("write of %d bytes: ok %v, %v", n, ok, err)
		}
		got := make([]byte, n)
		for k := 0; k < n; {
			m, ok, err := r.Read(got[k:])
			if !ok || err != nil {
				t.Fatalf("read: ok %v, %v", ok, err)
			}
			k += m
		}
		if !bytes.Equal(got, m) {
			t.Fatalf("message %d (%d bytes) came back changed", i, n)
		}
	}
	sc.Close()
	if _, _, err := r.Read(make([]byte, 16)); !errors.Is(err, io.EOF) {
		t.Errorf("after the peer closed: %v, want io.EOF", err)
	}
}
