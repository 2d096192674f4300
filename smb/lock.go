package smb

import (
	"context"

	"github.com/cifsd/cifsd/smb2"
)

// byteLock is one byte-range lock held through an open (MS-FSA 2.1.5.7).
type byteLock struct {
	open      *Open
	off, n    uint64
	exclusive bool
}

func (l *byteLock) overlaps(off, n uint64) bool {
	if n == 0 || l.n == 0 {
		// A zero-length lock conflicts with nothing but a range strictly
		// containing its offset.
		if n == 0 && l.n == 0 {
			return false
		}
		if n == 0 {
			return off > l.off && off < l.off+l.n
		}
		return l.off > off && l.off < off+n
	}
	return off < l.off+l.n && l.off < off+n
}

// lock locks or unlocks byte ranges of a file (MS-SMB2 3.3.5.14). Locks
// that cannot be granted fail at once; waiting locks are future work.
func (s *Server) lock(ctx context.Context, req *Request) *Response {
	var r smb2.LockRequest
	if err := r.Decode(req.Msg); err != nil || len(r.Locks) == 0 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.isDir || o.node == nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	unlock := r.Locks[0].Flags&smb2.LockFlagUnlock != 0
	for _, l := range r.Locks {
		if unlock != (l.Flags&smb2.LockFlagUnlock != 0) {
			return statusResponse(smb2.StatusInvalidParameter)
		}
		if !unlock {
			kind := l.Flags &^ smb2.LockFlagFailImmediately
			if kind != smb2.LockFlagShared && kind != smb2.LockFlagExclusive {
				return statusResponse(smb2.StatusInvalidParameter)
			}
		} else if l.Flags != smb2.LockFlagUnlock {
			return statusResponse(smb2.StatusInvalidParameter)
		}
		if l.Length != 0 && l.Offset+l.Length-1 < l.Offset {
			return statusResponse(smb2.StatusInvalidLockRange)
		}
	}
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := o.node
	if unlock {
		for _, l := range r.Locks {
			found := false
			for i, x := range n.locks {
				if x.open == o && x.off == l.Offset && x.n == l.Length {
					n.locks = append(n.locks[:i], n.locks[i+1:]...)
					found = true
					break
				}
			}
			if !found {
				return statusResponse(smb2.StatusRangeNotLocked)
			}
		}
		return ok(smb2.SimpleBody{})
	}
	granted := len(n.locks)
	for _, l := range r.Locks {
		excl := l.Flags&smb2.LockFlagExclusive != 0
		for _, x := range n.locks {
			if x.overlaps(l.Offset, l.Length) && (x.exclusive || excl) {
				n.locks = n.locks[:granted] // all or nothing
				return statusResponse(smb2.StatusLockNotGranted)
			}
		}
		n.locks = append(n.locks, byteLock{open: o, off: l.Offset, n: l.Length, exclusive: excl})
	}
	return ok(smb2.SimpleBody{})
}

// releaseLocks drops the locks held through o; the caller holds sh.mu.
func (n *fileNode) releaseLocksLocked(o *Open) {
	kept := n.locks[:0]
	for _, x := range n.locks {
		if x.open != o {
			kept = append(kept, x)
		}
	}
	n.locks = kept
}
