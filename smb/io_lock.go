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

// overlaps reports whether the lock conflicts in range with a request for
// n bytes at off. Ranges may end at 2^64 exactly, so they are compared by
// distance from their starts, which never overflows.
func (l *byteLock) overlaps(off, n uint64) bool {
	switch {
	case n == 0 && l.n == 0:
		// A zero-length lock conflicts with nothing but a range strictly
		// containing its offset.
		return false
	case n == 0:
		return off > l.off && off-l.off < l.n
	case l.n == 0:
		return l.off > off && l.off-off < n
	case off >= l.off:
		return off-l.off < l.n
	default:
		return l.off-off < n
	}
}

// validRange reports whether a lock range ends at or before 2^64 (MS-FSA
// 2.1.5.7: STATUS_INVALID_LOCK_RANGE otherwise).
func validRange(off, n uint64) bool { return n == 0 || off+(n-1) >= off }

// lock locks or unlocks byte ranges of a file (MS-SMB2 3.3.5.14). The
// first element decides whether the request unlocks or locks; the elements
// are then processed in order, and an error stops the processing without
// undoing what earlier elements did, except that a lock that cannot be
// granted releases the ranges this request locked (3.3.5.14.2). A single
// lock without FAIL_IMMEDIATELY waits for its range.
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
	seq := o.lockSequence(req, r.LockSequence)
	if seq.replayed() {
		return ok(smb2.SimpleBody{})
	}
	if r.Locks[0].Flags&smb2.LockFlagUnlock != 0 {
		return s.unlockRanges(o, r.Locks, seq)
	}
	if len(r.Locks) > 1 {
		// Only a single lock may wait (MS-SMB2 3.3.5.14.2).
		for _, l := range r.Locks {
			if l.Flags&smb2.LockFlagFailImmediately == 0 {
				return statusResponse(smb2.StatusInvalidParameter)
			}
		}
	}
	o.breakReadCaching() // MS-FSA 2.1.5.7: a byte-range lock breaks level II
	// The elements up to the first invalid one are granted in one step;
	// the invalid one decides what stays granted.
	rs := make([]lockRange, 0, len(r.Locks))
	stop := smb2.StatusSuccess
	for _, l := range r.Locks {
		kind := l.Flags &^ smb2.LockFlagFailImmediately
		if kind != smb2.LockFlagShared && kind != smb2.LockFlagExclusive {
			// Locks granted so far stay (MS-SMB2 3.3.5.14.2).
			stop = smb2.StatusInvalidParameter
			break
		}
		if !validRange(l.Offset, l.Length) {
			// Nothing stays locked, but a conflict before it answers
			// first.
			if s.state.TestRanges(o, rs) >= 0 {
				return statusResponse(smb2.StatusLockNotGranted)
			}
			return statusResponse(smb2.StatusInvalidLockRange)
		}
		rs = append(rs, lockRange{off: l.Offset, n: l.Length, exclusive: kind == smb2.LockFlagExclusive})
	}
	var granted lockSeq // the request's sequence, recorded when it succeeds
	if stop == smb2.StatusSuccess {
		granted = seq
	}
	if i := s.state.LockRanges(o, rs, granted); i >= 0 {
		if r.Locks[i].Flags&smb2.LockFlagFailImmediately != 0 {
			return statusResponse(smb2.StatusLockNotGranted)
		}
		return s.waitLock(req, o, rs[i], seq)
	}
	if stop != smb2.StatusSuccess {
		return statusResponse(stop)
	}
	return ok(smb2.SimpleBody{})
}

// lockSequences is Open.LockSequenceArray (MS-SMB2 3.3.1.10): per bucket
// 1..64, the sequence number of the last lock or unlock request that
// succeeded, so that a request replayed after a lost connection is not
// applied twice.
type lockSequences [64]struct {
	valid bool
	num   uint8
}

// lockSeq is a request's LockSequence as it applies to its open.
type lockSeq struct {
	o      *Open
	index  int   // bucket 1..64; 0 when the open does not verify sequences
	num    uint8 // LockSequenceNumber
	replay bool
}

func (q lockSeq) replayed() bool { return q.replay }

// lockSequence checks the request's LockSequence (MS-SMB2 3.3.5.14):
// durable opens verify it, and so does every open used over an SMB 3.x
// connection that offered multichannel (the specification's SHOULD;
// Windows, per its note <314>, only verifies resilient and persistent
// opens, which cifsd does not have; smbtorture's
// smb2.lock.replay_smb3_specification_multi expects the specification).
// Buckets are 1..64 (others are ignored); a request whose number equals
// the bucket's last one is a replay and succeeds without effect, any
// other number invalidates the bucket.
func (o *Open) lockSequence(req *Request, v uint32) lockSeq {
	q := lockSeq{o: o, index: int(v >> 4), num: uint8(v & 0xF)}
	d := req.conn.dialect()
	multi := d >= smb2.Dialect300 && req.conn.neg.serverCaps&smb2.GlobalCapMultiChannel != 0
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if d == smb2.Dialect202 || o.durable == nil && !multi || q.index < 1 || q.index > len(o.lockSeq) {
		q.index = 0
		return q
	}
	e := &o.lockSeq[q.index-1]
	if e.valid && e.num == q.num {
		q.replay = true
		return q
	}
	e.valid = false
	return q
}

// record stores the sequence of a request that succeeded. The caller
// holds sh.mu.
func (s *lockSequences) record(q lockSeq) {
	if q.index > 0 {
		s[q.index-1].valid, s[q.index-1].num = true, q.num
	}
}

// unlockRanges releases the ranges of an unlock request in order
// (MS-SMB2 3.3.5.14.1): each element must name exactly a range the open
// locked; the first that does not stops the request, earlier unlocks
// staying done. Where an exclusive and a shared lock share a range, the
// exclusive one goes first.
func (s *Server) unlockRanges(o *Open, locks []smb2.LockElement, seq lockSeq) *Response {
	rs := make([]lockRange, 0, len(locks))
	stop := smb2.StatusSuccess
	for _, l := range locks {
		if l.Flags != smb2.LockFlagUnlock {
			stop = smb2.StatusInvalidParameter
			break
		}
		if !validRange(l.Offset, l.Length) {
			stop = smb2.StatusInvalidLockRange
			break
		}
		rs = append(rs, lockRange{off: l.Offset, n: l.Length})
	}
	if stop != smb2.StatusSuccess {
		seq = lockSeq{} // recorded only when the request succeeds
	}
	if s.state.UnlockRanges(o, rs, seq) < len(rs) {
		return statusResponse(smb2.StatusRangeNotLocked)
	}
	if stop != smb2.StatusSuccess {
		return statusResponse(stop)
	}
	return ok(smb2.SimpleBody{})
}

// waitLock makes a blocking lock wait (MS-SMB2 3.3.5.14: STATUS_PENDING,
// then the final answer) until its range is free, CANCEL, or the handle
// closes.
func (s *Server) waitLock(req *Request, o *Open, r lockRange, seq lockSeq) *Response {
	if resp := req.asyncLimitResponse(); resp != nil { // conn_limits.go
		return resp
	}
	op := req.goAsync()
	req.conn.goSafe(func() {
		for {
			granted, closed, changed := s.state.LockOrWatch(o, r, seq)
			switch {
			case closed:
				op.complete(statusResponse(smb2.StatusRangeNotLocked))
				return
			case granted:
				op.complete(ok(smb2.SimpleBody{}))
				return
			}
			select {
			case <-changed:
			case <-op.ctx.Done():
				op.complete(statusResponse(smb2.StatusCancelled))
				return
			}
		}
	})
	return req.interim(op)
}

// The byte-range lock table in memory (memState's lockStore): the locks
// of a file live on its node, under its share lock.

// LockRanges implements lockStore.
func (m *memState) LockRanges(o *Open, rs []lockRange, seq lockSeq) int {
	o.share.mu.Lock()
	defer o.share.mu.Unlock()
	i := o.node.tryLocks(o, rs)
	if i < 0 {
		o.lockSeq.record(seq)
	}
	return i
}

// LockOrWatch implements lockStore.
func (m *memState) LockOrWatch(o *Open, r lockRange, seq lockSeq) (granted, closed bool, changed <-chan struct{}) {
	o.share.mu.Lock()
	defer o.share.mu.Unlock()
	if o.closed() {
		return false, true, nil
	}
	if o.node.tryLocks(o, []lockRange{r}) < 0 {
		o.lockSeq.record(seq)
		return true, false, nil
	}
	return false, false, o.node.lockChange()
}

// TestRanges implements lockStore.
func (m *memState) TestRanges(o *Open, rs []lockRange) int {
	o.share.mu.Lock()
	defer o.share.mu.Unlock()
	n := o.node
	before := len(n.locks)
	i := n.tryLocks(o, rs)
	n.setLocksLocked(n.locks[:before])
	return i
}

// UnlockRanges implements lockStore.
func (m *memState) UnlockRanges(o *Open, rs []lockRange, seq lockSeq) int {
	o.share.mu.Lock()
	defer o.share.mu.Unlock()
	n := o.node
	for done, r := range rs {
		found := -1
		for i, x := range n.locks {
			if x.open == o && x.off == r.off && x.n == r.n {
				if found < 0 || x.exclusive && !n.locks[found].exclusive {
					found = i
				}
			}
		}
		if found < 0 {
			return done
		}
		n.setLocksLocked(append(n.locks[:found], n.locks[found+1:]...))
		n.locksReleased()
	}
	o.lockSeq.record(seq)
	return len(rs)
}

// ReleaseLocksLocked implements lockStore.
func (m *memState) ReleaseLocksLocked(o *Open) { o.node.releaseLocksLocked(o) }

// HasLocksLocked implements lockStore.
func (m *memState) HasLocksLocked(n *fileNode) bool { return len(n.locks) > 0 }

// IOConflict implements lockStore.
func (m *memState) IOConflict(o *Open, off, length uint64, write bool) bool {
	if o.node.numLocks.Load() == 0 {
		// No byte-range locks: no share lock either (a lock granted
		// meanwhile is as if granted after this request).
		return false
	}
	o.share.mu.Lock()
	defer o.share.mu.Unlock()
	return len(o.node.locks) > 0 && o.node.ioConflict(o, off, length, write)
}

// LockCount implements lockStore.
func (m *memState) LockCount(o *Open) int {
	o.share.mu.Lock()
	defer o.share.mu.Unlock()
	count := 0
	for _, l := range o.node.locks {
		if l.open == o {
			count++
		}
	}
	return count
}

// tryLocks takes all of rs for o, in order, or none: it returns the index
// of the first that conflicts, or -1. The caller holds sh.mu.
func (n *fileNode) tryLocks(o *Open, rs []lockRange) int {
	granted := len(n.locks)
	for i, r := range rs {
		if n.lockConflict(o, r.off, r.n, r.exclusive) {
			n.setLocksLocked(n.locks[:granted])
			return i
		}
		n.setLocksLocked(append(n.locks, byteLock{open: o, off: r.off, n: r.n, exclusive: r.exclusive}))
	}
	return -1
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
	n.setLocksLocked(kept)
	n.locksReleased() // also wakes o's own waiters, which then see it closed
}

// lockConflict reports whether a lock request by o conflicts with the locks
// held (MS-FSA 2.1.5.7): an exclusive request with any lock, o's own
// included (exclusive locks do not stack, nor does one on a shared lock);
// a shared request with another open's exclusive lock. An open may stack a
// shared lock on its own exclusive or shared one. The caller holds sh.mu.
func (n *fileNode) lockConflict(o *Open, off, length uint64, excl bool) bool {
	for _, x := range n.locks {
		if !x.overlaps(off, length) {
			continue
		}
		if excl || x.exclusive && x.open != o {
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
// the READ or WRITE on o.
func (s *Server) checkIO(o *Open, off, length uint64, write bool) smb2.Status {
	if o.node == nil || length == 0 {
		return smb2.StatusSuccess
	}
	if s.state.IOConflict(o, off, length, write) {
		return smb2.StatusFileLockConflict
	}
	return smb2.StatusSuccess
}
