package smb

import "sync"

// Message buffers and the limits on a message's size; the framing of
// messages on the wire is the transport's (conn_transport.go).

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
