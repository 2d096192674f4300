package smb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/cifsd/cifsd/internal/rawsock"
)

// transport carries the SMB2 messages of one connection. The connection
// (conn.go) reads and writes whole messages through it and knows nothing of
// their framing, so other transports plug in beside direct TCP without
// touching the request path: SMB over QUIC (a QUIC stream carries the same
// framing as TCP, MS-SMB2 2.1), SMB Direct (RDMA, MS-SMBD: its own data
// transfer messages).
type transport interface {
	// readMessage reads the next message, of at most limit bytes, into a
	// buffer that stays valid until release is called. A message is one
	// transport frame: an SMB2 message, a compound, a transform or
	// compression header with its payload, or an SMB1 NEGOTIATE.
	readMessage(limit int) (msg []byte, release func(), err error)
	// writeMessage writes the message made of bufs, in one piece. It is
	// called from one goroutine at a time (the connection's writer).
	writeMessage(bufs net.Buffers) error
	// readAhead reports whether bytes of the next message have been
	// read already (the client sent it without waiting for an answer).
	readAhead() bool
}

// directTCP is the Direct TCP transport (MS-SMB2 2.1): each message is
// preceded by a 4-byte header, a zero byte and a 24-bit big-endian length.
// It serves any net.Conn.
type directTCP struct {
	r   io.Reader
	w   io.Writer
	raw *rawsock.Conn // w's raw writes (internal/rawsock), or nil
	// The read side (one reader at a time). A frame's first read takes up
	// to headSize bytes into head: the transport header and, for most
	// small requests, the whole message, so that it costs one read
	// system call rather than two. Bytes read past the frame's end,
	// head[:ahead], start the next frame.
	head  [headSize]byte
	ahead int
	// started, when set, is called when a frame starts from bytes read
	// with the previous one: its first byte has come (conn_limits.go).
	started func()

	whdr [4]byte // the write side's header (one writer at a time, conn.send)
}

// headSize bounds a frame's first read: the transport header and an ECHO,
// CLOSE, QUERY_INFO, FLUSH or LOCK request, or a CREATE of a short name
// without contexts, whole. A connection holds it while idle.
const headSize = 192

func (t *directTCP) readMessage(limit int) ([]byte, func(), error) {
	k := t.ahead
	t.ahead = 0
	if k > 0 && t.started != nil {
		t.started()
	}
	if k < 4 {
		m, err := io.ReadAtLeast(t.r, t.head[k:], 4-k)
		k += m
		if err != nil {
			return nil, nil, err
		}
	}
	n, err := frameLen(t.head[:4], limit)
	if err != nil {
		return nil, nil, err
	}
	b, release := getBuf(n)
	if end := 4 + n; end <= k {
		copy(b, t.head[4:end])
		t.ahead = copy(t.head[:], t.head[end:k])
		return b, release, nil
	}
	got := copy(b, t.head[4:k])
	if _, err := io.ReadFull(t.r, b[got:]); err != nil {
		release()
		return nil, nil, err
	}
	return b, release, nil
}

func (t *directTCP) writeMessage(bufs net.Buffers) error {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	binary.BigEndian.PutUint32(t.whdr[:], uint32(n)&0xFFFFFF)
	// The header and the message in one writev, through a pooled slice:
	// no allocation per message, none kept while idle. WriteTo consumes
	// the slice; the references to the message are dropped before it goes
	// back to the pool.
	vp := writeVecs.Get().(*net.Buffers)
	all := append((*vp)[:0], t.whdr[:])
	all = append(all, bufs...)
	*vp = all
	ok, err := t.raw.Writev(all)
	if !ok {
		_, err = vp.WriteTo(t.w)
	}
	clear(all)
	if cap(all) <= maxPooledVecs {
		*vp = all[:0]
		writeVecs.Put(vp)
	}
	return err
}

// writeVecs pools the slices writeMessage hands to writev.
var writeVecs = sync.Pool{New: func() any { return new(net.Buffers) }}

// maxPooledVecs bounds the slices writeVecs keeps.
const maxPooledVecs = 16

// frameLen checks a Direct TCP header and returns the length of the
// message it precedes, at most limit.
func frameLen(hdr []byte, limit int) (int, error) {
	if hdr[0] != 0 {
		return 0, fmt.Errorf("smb: bad transport frame type %#x", hdr[0])
	}
	n := int(binary.BigEndian.Uint32(hdr) & 0xFFFFFF)
	if n > limit {
		return 0, fmt.Errorf("smb: frame of %d bytes exceeds %d", n, limit)
	}
	if n < 4 {
		return 0, fmt.Errorf("smb: frame of %d bytes is too short", n)
	}
	return n, nil
}

// readAhead reports whether the last read took bytes of the next message
// with the last one: the client has sent its next request already.
func (t *directTCP) readAhead() bool { return t.ahead > 0 }

// idleReader reads one frame from c, under two timeouts.
//
// Before the frame's first byte, the idle timeout (the read deadline the
// reader, readNext, sets) closes only connections without opens, as Windows'
// autodisconnect ends only idle sessions without open files: when it
// passes on a connection whose sessions hold opens, the deadline is
// extended and the read goes on.
//
// Once the first byte has arrived, the frame timeout applies: the rest of
// the frame has Limits.FrameTimeout to come, renewed each time another
// FrameProgressBytes have come, so a stalled or trickled frame ends the
// connection while a large frame on a slow link that keeps moving does
// not (as a web server's minimum request-body rate: Apache's
// mod_reqtimeout). Without a frame timeout the rest of the frame has one
// idle period.
type idleReader struct {
	c        *conn
	raw      *rawsock.Conn // the socket's raw reads, or nil: through c.nc
	idle     time.Duration
	frame    time.Duration // Limits.FrameTimeout; 0: none
	started  bool          // a byte of the frame was read: a deadline now ends the connection
	progress int           // bytes of the frame since its deadline was last set
	// arm: the frame's deadline is due before its next read. It is set
	// then, not when the bytes came: a frame whose first read took it
	// whole (most small requests) costs no deadline of its own.
	arm bool
	// The wait for a frame's first byte, on a reader whose stack grew
	// (conn_order.go): parking, its deadline is readerParkAfter, at
	// which the read ends with errReaderParked; resume, the next wait is
	// the rest of the idle period, which began at idleSince.
	parking, resume bool
	idleSince       time.Time
}

// newFrame readies r for the next frame.
func (r *idleReader) newFrame() { r.started, r.progress, r.arm = false, 0, false }

// frameStarted records that the frame's first bytes came with the last
// frame's read (directTCP): the frame timeout applies to the rest.
func (r *idleReader) frameStarted() {
	r.started, r.progress = true, 0
	r.armFrame()
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.arm {
		r.arm = false
		r.armFrame()
	}
	for {
		n, err := r.read(p)
		if n > 0 {
			r.progress += n
			if !r.started || r.progress >= FrameProgressBytes {
				r.started = true
				r.progress = 0
				r.arm = true // before the frame's next read
			}
		}
		if err == nil {
			return n, nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && r.started && !r.c.draining.Load() {
			if r.frame > 0 {
				r.c.srv.refused(RefusedFrameTimeout, r.c.remoteAddr)
			}
			return n, err
		}
		if r.started || ne == nil || !ne.Timeout() || r.c.draining.Load() {
			return n, err
		}
		if r.parking {
			r.parking = false
			return n, errReaderParked
		}
		if r.idle <= 0 {
			return n, err
		}
		if !r.c.srv.connHasOpens(r.c) {
			r.c.srv.refused(RefusedIdle, r.c.remoteAddr)
			return n, err
		}
		r.c.nc.SetReadDeadline(time.Now().Add(r.idle))
	}
}

// read reads the socket: small reads raw (internal/rawsock), the rest
// through the net.Conn.
func (r *idleReader) read(p []byte) (int, error) {
	if n, ok, err := r.raw.Read(p); ok {
		return n, err
	}
	return r.c.nc.Read(p)
}

// armFrame sets the deadline for the rest of the frame: the frame timeout,
// or without one an idle period (a deadline that has passed fails a read
// even of bytes already there, so the first byte always re-arms it).
func (r *idleReader) armFrame() {
	if r.c.draining.Load() {
		return // Shutdown set a deadline to stop reading: keep it
	}
	switch {
	case r.frame > 0:
		r.c.nc.SetReadDeadline(time.Now().Add(r.frame))
	case r.idle > 0:
		r.c.nc.SetReadDeadline(time.Now().Add(r.idle))
	}
}

// Message buffers and the limits on a message's size: the buffers the
// transport reads messages into, which handlers also take for what they
// answer with (a READ's data, a listing).

// maxFrameSize bounds a frame from the client: the largest READ/WRITE we
// negotiate plus room for headers, a transform header and a compound.
const maxFrameSize = maxIOSize + 64*1024

// bufPool hands out message buffers by size class, so that a connection
// streaming 1 MiB writes reuses a few buffers instead of allocating one per
// message.
var bufClasses = [...]int{4 << 10, 64 << 10, 1<<20 + 64<<10, maxFrameSize}

var bufPools [len(bufClasses)]sync.Pool

// pooledBuf is a buffer of bufPools with its release func, made once with
// the buffer, so that taking a buffer from the pool allocates nothing.
type pooledBuf struct {
	b       []byte
	release func()
}

// getBuf returns a buffer of length n from the pool and its release func.
func getBuf(n int) ([]byte, func()) {
	for i, size := range bufClasses {
		if n <= size {
			p := &bufPools[i]
			pb, _ := p.Get().(*pooledBuf)
			if pb == nil {
				pb = &pooledBuf{b: make([]byte, size)}
				pb.release = func() { p.Put(pb) }
			}
			return pb.b[:n], pb.release
		}
	}
	return make([]byte, n), func() {}
}

// preAuthFrameSize bounds frames until a session is established on the
// connection: NEGOTIATE and SESSION_SETUP (a Kerberos ticket with a large
// PAC included) fit easily, and an unauthenticated client cannot make the
// server hold megabytes per frame.
const preAuthFrameSize = 256 << 10
