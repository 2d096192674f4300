package smb

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// Direct TCP transport framing (MS-SMB2 2.1): each message is preceded by a
// 4-byte header, a zero byte and a 24-bit big-endian length.

// maxFrameSize bounds a frame from the client: the largest READ/WRITE we
// negotiate plus room for headers, a transform header and a compound.
const maxFrameSize = maxIOSize + 64*1024

// bufPool hands out message buffers by size class, so that a connection
// streaming 1 MiB writes reuses a few buffers instead of allocating one per
// message.
var bufClasses = [...]int{4 << 10, 64 << 10, 1<<20 + 64<<10, maxFrameSize}

var bufPools [len(bufClasses)]sync.Pool

// getBuf returns a buffer of length n from the pool and its release func.
func getBuf(n int) ([]byte, func()) {
	for i, size := range bufClasses {
		if n <= size {
			p := &bufPools[i]
			bp, _ := p.Get().(*[]byte)
			if bp == nil {
				b := make([]byte, size)
				bp = &b
			}
			return (*bp)[:n], func() { p.Put(bp) }
		}
	}
	return make([]byte, n), func() {}
}

// preAuthFrameSize bounds frames until a session is established on the
// connection: NEGOTIATE and SESSION_SETUP (a Kerberos ticket with a large
// PAC included) fit easily, and an unauthenticated client cannot make the
// server hold megabytes per frame.
const preAuthFrameSize = 256 << 10

// readFrame reads one transport frame of at most limit bytes into a pooled
// buffer.
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

// frameHeader returns the 4-byte transport header for a message of n bytes.
func frameHeader(n int) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(n)&0xFFFFFF)
	return b
}
