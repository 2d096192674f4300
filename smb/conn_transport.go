package smb

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
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
}

// directTCP is the Direct TCP transport (MS-SMB2 2.1): each message is
// preceded by a 4-byte header, a zero byte and a 24-bit big-endian length.
// It serves any net.Conn.
type directTCP struct {
	r   io.Reader
	w   io.Writer
	hdr [4]byte // read side; the reader is one goroutine
}

func (t *directTCP) readMessage(limit int) ([]byte, func(), error) {
	return readFrame(t.r, &t.hdr, limit)
}

func (t *directTCP) writeMessage(bufs net.Buffers) error {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	all := make(net.Buffers, 0, len(bufs)+1)
	all = append(all, frameHeader(n))
	all = append(all, bufs...)
	_, err := all.WriteTo(t.w) // writev on a TCP connection
	return err
}

// readFrame reads one Direct TCP frame of at most limit bytes into a
// pooled buffer.
func readFrame(r io.Reader, hdr *[4]byte, limit int) ([]byte, func(), error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, err
	}
	if hdr[0] != 0 {
		return nil, nil, fmt.Errorf("smb: bad transport frame type %#x", hdr[0])
	}
	n := int(binary.BigEndian.Uint32(hdr[:]) & 0xFFFFFF)
	if n > limit {
		return nil, nil, fmt.Errorf("smb: frame of %d bytes exceeds %d", n, limit)
	}
	if n < 4 {
		return nil, nil, fmt.Errorf("smb: frame of %d bytes is too short", n)
	}
	b, release := getBuf(n)
	if _, err := io.ReadFull(r, b); err != nil {
		release()
		return nil, nil, err
	}
	return b, release, nil
}

// frameHeader returns the 4-byte Direct TCP header for a message of n
// bytes.
func frameHeader(n int) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(n)&0xFFFFFF)
	return b
}
