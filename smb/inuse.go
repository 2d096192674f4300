package smb

import (
	"encoding/binary"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Requests on one handle run concurrently: a client pipelines the READs and
// WRITEs of a large file, and they are served in parallel. Three commands
// instead act on the handle as a whole, after everything the client sent
// before them on it, and alone:
//
//   - CLOSE ends the handle after the requests sent before it, not in their
//     middle (smbtorture compound_find.compound_find_close sends a
//     QUERY_DIRECTORY and, without waiting, a CLOSE: both succeed on
//     Windows; a WRITE pipelined before a CLOSE is written).
//   - SET_INFO: a rename of a named stream swaps the handle's backend file,
//     which no READ or WRITE may be using; times or a size set after WRITEs
//     are not overtaken by them.
//   - FLUSH commits the WRITEs sent before it.
//
// Open.inUse is the reader/writer lock behind this: a request holds it
// shared from req.open until its handler returns (an async operation, which
// returns STATUS_PENDING, holds it no longer), and those three hold it
// exclusive. Go's RWMutex makes a shared request that comes after a waiting
// exclusive one wait for it, so the order holds in both directions.
//
// OPLOCK_BREAK acknowledgments and CHANGE_NOTIFY hold nothing: an
// acknowledgment is what an exclusive SET_INFO may be waiting for, and a
// lone CHANGE_NOTIFY is served on the reading goroutine, which must never
// wait.
//
// Goroutines start in no fixed order, so the connection's reading goroutine
// takes the shared hold itself for a lone request it can look into (preHold)
// before it reads the next frame: a CLOSE read after it then finds it held.
// Encrypted frames too large to peek at cheaply (WRITEs with data) take
// their hold when their goroutine runs.

// backendFile is the open's backend file, for a request that does not hold
// the open.
func (o *Open) backendFile() vfs.File {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.file
}

// openHold is an open a request holds, shared or exclusive.
type openHold struct {
	o    *Open
	excl bool
}

// hold takes o for the request, shared or exclusive, unless the request
// holds it already. An exclusive hold taken over a shared one lets others
// run in between: the caller checks that the open is still there.
func (req *Request) hold(o *Open, excl bool) {
	for i, h := range req.holds {
		if h.o != o {
			continue
		}
		if excl && !h.excl {
			o.inUse.RUnlock()
			o.inUse.Lock()
			req.holds[i].excl = true
		}
		return
	}
	if excl {
		o.inUse.Lock()
	} else {
		o.inUse.RLock()
	}
	req.holds = append(req.holds, openHold{o: o, excl: excl})
}

// releaseHolds lets go of every open the request holds.
func (req *Request) releaseHolds() {
	for _, h := range req.holds {
		if h.excl {
			h.o.inUse.Unlock()
		} else {
			h.o.inUse.RUnlock()
		}
	}
	req.holds = req.holds[:0]
}

// sharedFileIDOffset is where the body of a request that holds its handle
// shared carries the FileId (MS-SMB2 2.2), or -1: commands without one,
// the exclusive ones (CLOSE, SET_INFO, FLUSH), and OPLOCK_BREAK
// acknowledgments and CHANGE_NOTIFY, which hold nothing: they must never
// wait (a lone CHANGE_NOTIFY is served on the reading goroutine).
func sharedFileIDOffset(cmd smb2.Command) int {
	switch cmd {
	case smb2.Read, smb2.Write:
		return 16
	case smb2.QueryInfo:
		return 24
	case smb2.Lock, smb2.Ioctl, smb2.QueryDirectory:
		return 8
	}
	return -1
}

// preHold takes, in the reading goroutine, the shared hold of the open the
// lone request h (message msg) names, and returns the open: nil when there
// is none to take or it is held exclusive now (the request's goroutine then
// waits its turn in req.open). The request's first element adopts it
// (serveCompound).
func (c *conn) preHold(h *smb2.Header, msg []byte) *Open {
	if h.NextCommand != 0 {
		return nil
	}
	off := sharedFileIDOffset(h.Command)
	if off < 0 || len(msg) < smb2.HeaderSize+off+16 {
		return nil
	}
	body := msg[smb2.HeaderSize+off:]
	id := smb2.FileID{Persistent: binary.LittleEndian.Uint64(body), Volatile: binary.LittleEndian.Uint64(body[8:])}
	s := c.srv.sessions.get(h.SessionID)
	if s == nil || !s.boundTo(c) {
		return nil
	}
	o := s.lookupOpen(id)
	if o == nil || !o.inUse.TryRLock() {
		return nil
	}
	return o
}
