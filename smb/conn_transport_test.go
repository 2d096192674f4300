package smb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"testing/iotest"

	"github.com/cifsd/cifsd/internal/rawsock"
)

// frameOf is msg behind its Direct TCP header.
func frameOf(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)
}

// Frames come out whole and in order however the stream is cut: several
// small frames in one read (the bytes read past one are the next's), a
// frame larger than the first read, a stream delivered a byte at a time;
// a frame that starts from bytes read with the previous one is reported
// as started; the end of the stream is io.EOF.
func TestDirectTCPFraming(t *testing.T) {
	msgs := [][]byte{
		bytes.Repeat([]byte{1}, 68),
		bytes.Repeat([]byte{2}, 100),
		bytes.Repeat([]byte{3}, 5000), // larger than headSize
		bytes.Repeat([]byte{4}, 4),
		bytes.Repeat([]byte{5}, headSize-4), // exactly one first read
		bytes.Repeat([]byte{6}, 70),
	}
	var stream []byte
	for _, m := range msgs {
		stream = append(stream, frameOf(m)...)
	}
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"one chunk", bytes.NewReader(stream)},
		{"byte by byte", iotest.OneByteReader(bytes.NewReader(stream))},
		{"half reads", iotest.HalfReader(bytes.NewReader(stream))},
	} {
		started := 0
		tr := &directTCP{r: tc.r, started: func() { started++ }}
		for i, want := range msgs {
			got, release, err := tr.readMessage(1 << 20)
			if err != nil {
				t.Fatalf("%s: frame %d: %v", tc.name, i, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: frame %d: %d bytes, want %d of %d", tc.name, i, len(got), len(want), want[0])
			}
			release()
		}
		if _, _, err := tr.readMessage(1 << 20); !errors.Is(err, io.EOF) {
			t.Errorf("%s: after the last frame: %v, want EOF", tc.name, err)
		}
		if tc.name == "one chunk" && started == 0 {
			t.Errorf("%s: no frame reported started from read-ahead bytes", tc.name)
		}
		if tc.name == "byte by byte" && started != 0 {
			t.Errorf("%s: %d frames reported started, but no byte was read ahead", tc.name, started)
		}
	}
}

// A header announcing more than the limit, or a non-zero frame type, is an
// error, not a buffer of that size.
func TestDirectTCPBadHeader(t *testing.T) {
	big := frameOf(make([]byte, 100))
	if _, _, err := (&directTCP{r: bytes.NewReader(big)}).readMessage(99); err == nil {
		t.Error("a frame over the limit was read")
	}
	bad := frameOf(make([]byte, 10))
	bad[0] = 0x85
	if _, _, err := (&directTCP{r: bytes.NewReader(bad)}).readMessage(1 << 20); err == nil {
		t.Error("a frame of type 0x85 was read")
	}
}

// Messages written through directTCP over a TCP socket arrive whole and
// in order, whether small (raw system calls on Linux) or large (through
// the net.Conn), and are read back whole through the idle reader.
func TestDirectTCPOverTCP(t *testing.T) {
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
	defer cc.Close()
	sc := <-accepted
	if sc == nil {
		t.Fatal("accept failed")
	}
	defer sc.Close()
	w := &directTCP{w: sc, raw: rawsock.New(sc)}
	raw := rawsock.New(cc)
	rd := &idleReader{c: &conn{nc: cc}, raw: raw}
	r := &directTCP{r: rd}
	sizes := []int{68, 4, 4000, rawsock.Max - 4, rawsock.Max, 3 * rawsock.Max, 200}
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
