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
	if !unlock {
		o.breakReadCaching() // MS-FSA 2.1.5.7: a byte-range lock breaks level II
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
					n.locksReleased()
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
	if n.tryLocks(o, r.Locks) {
		return ok(smb2.SimpleBody{})
	}
	if len(r.Locks) > 1 || r.Locks[0].Flags&smb2.LockFlagFailImmediately != 0 {
		return statusResponse(smb2.StatusLockNotGranted)
	}
	// A blocking lock waits (MS-SMB2 3.3.5.14: STATUS_PENDING, then the
	// final answer) until the range is free, CANCEL, or the handle closes.
	op := req.goAsync()
	want := r.Locks
	req.conn.goSafe(func() {
		for {
			sh.mu.Lock()
			if o.closed() {
				sh.mu.Unlock()
				op.complete(statusResponse(smb2.StatusRangeNotLocked))
				return
			}
			if n.tryLocks(o, want) {
				sh.mu.Unlock()
				op.complete(ok(smb2.SimpleBody{}))
				return
			}
			changed := n.lockChange()
			sh.mu.Unlock()
			select {
			case <-changed:
			case <-op.ctx.Done():
				op.complete(statusResponse(smb2.StatusCancelled))
				return
			}
		}
	})
	return op.interim()
}

// tryLocks takes all of locks for o or none; the caller holds sh.mu.
func (n *fileNode) tryLocks(o *Open, locks []smb2.LockElement) bool {
	granted := len(n.locks)
	for _, l := range locks {
		excl := l.Flags&smb2.LockFlagExclusive != 0
		if n.lockConflict(o, l.Offset, l.Length, excl) {
			n.locks = n.locks[:granted]
			return false
		}
		n.locks = append(n.locks, byteLock{open: o, off: l.Offset, n: l.Length, exclusive: excl})
	}
	return true
}

// lockChange returns a channel closed the next time locks are released;
// the caller holds sh.mu.
func (n *fileNode) lockChange() <-chan struct{} {
	if n.lockWait == nil {
		n.lockWait = make(chan struct{})
	}
	return n.lockWait
}

// locksReleased wakes the blocked lock requests; the caller holds sh.mu.
func (n *fileNode) locksReleased() {
	if n.lockWait != nil {
		close(n.lockWait)
		n.lockWait = nil
	}
}

func (o *Open) closed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.isClosed
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
	n.locksReleased() // also wakes o's own waiters, which then see it closed
}

// lockConflict reports whether a lock request by o conflicts with the locks
// held (MS-FSA 2.1.5.7): a shared request with another open's exclusive
// lock; an exclusive one with any other open's lock, or with o's own
// exclusive lock. An open may stack a shared lock on its own exclusive one.
// The caller holds sh.mu.
func (n *fileNode) lockConflict(o *Open, off, length uint64, excl bool) bool {
	for _, x := range n.locks {
		if !x.overlaps(off, length) {
			continue
		}
		switch {
		case x.open != o && (x.exclusive || excl):
			return true
		case x.open == o && x.exclusive && excl:
			return true
		}
	}
	return false
}

// ioConflict reports whether o may not read (write false) or write the
// range (MS-FSA 2.1.4.10): another open's exclusive lock blocks both; a
// shared lock blocks writes by everyone, its owner included. The caller holds sh.mu.
func (n *fileNode) ioConflict(o *Open, off, length uint64, write bool) bool {
	if length == 0 {
		return false
	}
	for _, x := range n.locks {
		if x.n == 0 || !x.overlaps(off, length) {
			continue
		}
		if x.exclusive && x.open != o || !x.exclusive && write {
			return true
		}
	}
	return false
}

// checkIO answers STATUS_FILE_LOCK_CONFLICT when byte-range locks forbid
// the READ or WRITE.
func (o *Open) checkIO(off, length uint64, write bool) smb2.Status {
	if o.node == nil {
		return smb2.StatusSuccess
	}
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(o.node.locks) > 0 && o.node.ioConflict(o, off, length, write) {
		return smb2.StatusFileLockConflict
	}
	return smb2.StatusSuccess
}
