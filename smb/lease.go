package smb

import (
	"context"
	"sync"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// Leases (MS-SMB2 3.3.1.12 Lease Table, 3.3.1.13 Lease) and the breaking of
// caching, leases and oplocks alike.
//
// A lease is named by the client's ClientGuid and the LeaseKey it chose
// (GlobalLeaseTableList, MS-SMB2 3.3.1.4/3.3.1.12) and is on one file: the
// opens that name it share its state. Its state is a set of caching bits
// (R, H, W); cifsd grants R, RH, RW and RWH on files, and R and RH on
// directories to SMB 3.x clients (lease_dir.go). Oplocks are seen through the same bits (level II = R,
// exclusive = RW, batch = RWH) so that one break algorithm (MS-FSA 2.1.4.12)
// serves both.
//
// Lease state lives under the share lock of its file (shareState.mu); the
// table itself has its own lock, taken after a share lock.

const (
	leaseR = smb2.LeaseReadCaching
	leaseH = smb2.LeaseHandleCaching
	leaseW = smb2.LeaseWriteCaching
)

// breakWait bounds how long an operation waits for a holder to acknowledge
// a break (MS-SMB2 3.3.2.5; Windows waits 35 seconds).
const breakWait = 35 * time.Second

type leaseID struct{ client, key [16]byte }

// leaseTable is the server's GlobalLeaseTableList, flattened: memState's
// leaseStore (state.go). Its lock is taken after a share lock.
type leaseTable struct {
	mu sync.Mutex
	m  map[leaseID]*lease
}

// Lease implements leaseStore.
func (m *memState) Lease(id leaseID) *lease {
	m.leases.mu.Lock()
	defer m.leases.mu.Unlock()
	return m.leases.m[id]
}

// LeaseOrCreate implements leaseStore.
func (m *memState) LeaseOrCreate(id leaseID, fresh func() *lease) (*lease, bool) {
	t := &m.leases
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := t.m[id]; l != nil {
		return l, false
	}
	if t.m == nil {
		t.m = make(map[leaseID]*lease)
	}
	l := fresh()
	t.m[id] = l
	return l, true
}

// DropLease implements leaseStore.
func (m *memState) DropLease(l *lease) {
	t := &m.leases
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m[l.id] == l {
		delete(t.m, l.id)
	}
}

// LeaseCount implements leaseStore.
func (m *memState) LeaseCount() int {
	m.leases.mu.Lock()
	defer m.leases.mu.Unlock()
	return len(m.leases.m)
}

// leaseConns lists, per ClientGuid, the connections that were granted
// leases, oldest first: lease breaks go to the oldest one still up. It is
// this server's routing of breaks, not lease state; its lock is taken
// after a share lock.
type leaseConns struct {
	mu    sync.Mutex
	conns map[[16]byte][]*conn
}

// addConn records c as a connection of client that holds leases.
func (t *leaseConns) addConn(client [16]byte, c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conns == nil {
		t.conns = make(map[[16]byte][]*conn)
	}
	list := t.conns[client][:0]
	found := false
	for _, x := range t.conns[client] {
		if x.ctx.Err() != nil {
			continue // gone
		}
		found = found || x == c
		list = append(list, x)
	}
	if !found {
		list = append(list, c)
	}
	t.conns[client] = list
}

// breakConn is the connection a break of a lease of client goes to: as
// Samba and Windows do, the client's oldest connection that is still up,
// whichever of its connections the lease's opens came through (smbtorture
// smb2.lease.v2_complex1); def when there is none.
func (t *leaseConns) breakConn(client [16]byte, def *conn) *conn {
	if client == ([16]byte{}) {
		return def // no ClientGuid to tell clients apart
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, x := range t.conns[client] {
		if x.ctx.Err() == nil {
			return x
		}
	}
	return def
}

// lease is MS-SMB2 3.3.1.13 Lease.
type lease struct {
	id        leaseID
	conns     *leaseConns // where its breaks go
	v2        bool
	parentKey [16]byte
	hasParent bool
	sh        *shareState
	node      *fileNode // the file leased
	dir       bool      // a directory lease (lease_dir.go)
	opens     []*Open   // Lease.LeaseOpens

	// Under sh.mu.
	state    uint32
	epoch    uint16
	breaking bool
	breakTo  uint32        // Lease.BreakToLeaseState, as notified
	want     uint32        // what every pending break requires (⊆ breakTo)
	done     chan struct{} // closed when the break ends
}

// validLease reduces a state to one cifsd grants: R, RH, RW or RWH, and
// nothing without R (MS-SMB2 3.3.5.9.8: Windows grants no H or W alone).
func validLease(s uint32) uint32 {
	if s&leaseR == 0 {
		return 0
	}
	return s & (leaseR | leaseH | leaseW)
}

// caching is the caching o holds, as lease bits. The caller holds sh.mu.
func (o *Open) caching() uint32 {
	if o.lease != nil {
		return o.lease.state
	}
	switch o.oplock {
	case smb2.OplockLevelII:
		return leaseR
	case smb2.OplockLevelExclusive:
		return leaseR | leaseW
	case smb2.OplockLevelBatch:
		return leaseR | leaseW | leaseH
	}
	return 0
}

// oplockFor maps caching bits back to the oplock level an open may keep.
func oplockFor(cur uint8, s uint32) uint8 {
	switch {
	case s&leaseR == 0:
		return smb2.OplockLevelNone
	case cur == smb2.OplockLevelBatch && s&(leaseW|leaseH) == leaseW|leaseH,
		cur == smb2.OplockLevelExclusive && s&leaseW != 0:
		return cur
	}
	return smb2.OplockLevelII
}

// statOpen reports whether access asks for attributes only: such an open
// neither breaks caching nor takes part in its grants (MS-FSA 2.1.5.1.2).
func statOpen(access uint32) bool {
	// READ_CONTROL alone is not one for oplocks (smbtorture
	// smb2.oplock.statopen1) ...
	return access&^(smb2.FileReadAttributes|smb2.FileWriteAttributes|smb2.Synchronize) == 0
}

// leaseStatOpen is statOpen as leases see it: READ_CONTROL is one more
// right that neither breaks nor blocks a lease (smbtorture
// smb2.lease.statopen4).
func leaseStatOpen(access uint32) bool { return statOpen(access &^ smb2.ReadControl) }

// sameOwner reports whether x is covered by own's lease (the same lease
// never breaks itself).
func sameOwner(x *Open, own *lease) bool { return own != nil && x.lease == own }

// breaks collects the notifications and waits of one operation: the
// notifications are sent and the waits done without the share lock.
type breaks struct {
	sends []func()
	waits []breakWaiter
	purge []*Open // disconnected durable opens to close instead (open_durable.go)
}

type breakWaiter struct {
	ch    chan struct{}
	lease *lease
	open  *Open // an oplock's break
}

// lower lowers the caching of x to at most to (MS-FSA 2.1.4.12, MS-SMB2
// 3.3.4.6, 3.3.4.7). The caller holds sh.mu.
func (b *breaks) lower(x *Open, to uint32, shareBreak bool) {
	to = validLease(to)
	var r breakStep
	w := breakWaiter{lease: x.lease}
	if x.lease != nil {
		r = x.share.store.BreakLeaseLocked(x.lease, to, shareBreak)
	} else {
		r = x.share.store.BreakOplockLocked(x, to)
		w.open = x
	}
	b.purge = append(b.purge, r.purge...)
	if r.send != nil {
		b.sends = append(b.sends, r.send)
	}
	if r.wait != nil {
		w.ch = r.wait
		b.waits = append(b.waits, w)
	}
}

// BreakOplockLocked implements leaseStore.
func (m *memState) BreakOplockLocked(x *Open, to uint32) breakStep {
	if x.isDisconnected() {
		return breakStep{purge: []*Open{x}} // MS-SMB2 3.3.4.6
	}
	level := oplockFor(x.oplock, to)
	if x.oplockBroken != nil {
		// A break is in progress: wait for it, and go lower afterwards.
		if level < x.oplockWant {
			x.oplockWant = level
		}
		return breakStep{wait: x.oplockBroken}
	}
	if level == x.oplock {
		return breakStep{}
	}
	if x.oplock == smb2.OplockLevelII {
		// Level II to none needs no acknowledgement (MS-SMB2 3.3.4.6).
		x.oplock = smb2.OplockLevelNone
		return breakStep{send: func() { x.session.primary().sendOplockBreak(x, smb2.OplockLevelNone) }}
	}
	x.oplockBroken = make(chan struct{})
	x.breakTo, x.oplockWant = level, level
	return breakStep{wait: x.oplockBroken, send: func() { x.session.primary().sendOplockBreak(x, level) }}
}

// GrantOplockLocked implements leaseStore.
func (m *memState) GrantOplockLocked(o *Open, level uint8) { o.oplock = level }

// OplockLocked implements leaseStore.
func (m *memState) OplockLocked(o *Open) uint8 { return o.oplock }

// LeaseStateLocked implements leaseStore.
func (m *memState) LeaseStateLocked(l *lease) (uint32, uint16, bool) {
	return l.state, l.epoch, l.breaking
}

// CachingLocked implements leaseStore.
func (m *memState) CachingLocked(o *Open) uint32 { return o.caching() }

// BreakingLocked implements leaseStore.
func (m *memState) BreakingLocked(o *Open) bool {
	return o.lease != nil && o.lease.breaking || o.oplockBroken != nil
}

// ExpireOplockBreakLocked implements leaseStore.
func (m *memState) ExpireOplockBreakLocked(o *Open, ch chan struct{}) {
	if o.oplockBroken == ch {
		o.oplockLost()
	}
}

// EndOplockLocked implements leaseStore.
func (m *memState) EndOplockLocked(o *Open) { o.oplockLost() }

// BreakLeaseLocked implements leaseStore. The operation waits for the
// acknowledgement when the lease caches writes, or when the break is to
// resolve a sharing violation (shareBreak) and the lease caches handles;
// a break from R or RH for other reasons (an overwrite, a write) is
// notified but not waited for (smbtorture smb2.lease.breaking4).
func (m *memState) BreakLeaseLocked(l *lease, to uint32, shareBreak bool) breakStep {
	if l.allDisconnected() {
		return breakStep{purge: append([]*Open(nil), l.opens...)} // MS-SMB2 3.3.4.7
	}
	wait := l.state&leaseW != 0 || shareBreak && l.state&leaseH != 0
	if l.breaking {
		l.want &= to
		if l.want&leaseR == 0 {
			l.want = 0
		}
		if wait {
			return breakStep{wait: l.done}
		}
		return breakStep{}
	}
	if l.state&^to == 0 {
		return breakStep{}
	}
	r := breakStep{send: l.startBreak(to, false)}
	if wait && l.breaking {
		r.wait = l.done
	}
	return r
}

// ExpireLeaseBreakLocked implements leaseStore.
func (m *memState) ExpireLeaseBreakLocked(l *lease, ch chan struct{}) {
	if l.done != nil && l.done == ch {
		l.endBreak(0)
	}
}

// startBreak begins a break of l to `to` and returns the notification's
// sender (MS-SMB2 3.3.4.7). A break from W or H needs an acknowledgement:
// the lease is breaking until then; a break from R alone takes effect at
// once. The caller holds sh.mu.
func (l *lease) startBreak(to uint32, chained bool) func() {
	cur := l.state
	if l.v2 && !chained {
		// A break that follows an acknowledgement keeps the epoch
		// (smbtorture smb2.lease.v2_breaking3).
		l.epoch++
	}
	var flags uint32
	if cur&(leaseW|leaseH) != 0 {
		flags = smb2.NotifyBreakLeaseFlagAckRequired
		l.breaking, l.breakTo = true, to
		if !chained {
			l.want = to
		}
		l.done = make(chan struct{})
	} else {
		l.state = to
	}
	n := &smb2.LeaseBreakNotification{
		Flags: flags, LeaseKey: l.id.key, CurrentLeaseState: cur, NewLeaseState: to,
	}
	if l.v2 {
		n.NewEpoch = l.epoch
	}
	var target *Open
	for i := len(l.opens) - 1; i >= 0 && target == nil; i-- {
		if !l.opens[i].isDisconnected() {
			target = l.opens[i]
		}
	}
	table, client := l.conns, l.id.client
	return func() {
		if target == nil {
			return
		}
		c := target.session.primary()
		if table != nil && !target.session.encryptData && !target.tree.encrypt {
			// A notification that needs no encryption may go to any
			// connection of the client.
			c = table.breakConn(client, c)
		}
		c.sendLeaseBreak(target, n)
	}
}

// endBreak ends l's break with state s. The caller holds sh.mu.
func (l *lease) endBreak(s uint32) {
	l.state = s
	l.breaking = false
	if l.done != nil {
		close(l.done)
		l.done = nil
	}
}

// empty reports whether nothing is to be sent or waited for.
func (b *breaks) empty() bool { return len(b.sends) == 0 && len(b.waits) == 0 && len(b.purge) == 0 }

// run sends b's notifications and waits until every break that needs an
// acknowledgement is acknowledged, ends with a close, or breakWait passes
// (when the holder loses its caching as if it had acknowledged). The
// caller holds sh.mu; run releases it meanwhile and reports whether it did.
// The caller's reservation res (nil for none) is given up meanwhile too, so
// that other CREATEs of the name can start their own breaks, and taken
// again before sh.mu (name_lock.go); if ctx ends first, res is not held on
// return.
func runBreaks(ctx context.Context, sh *shareState, b *breaks, res *reservation) bool {
	if b.empty() {
		return false
	}
	purged := b.purgeLocked()
	res.releaseLocked()
	sh.mu.Unlock()
	for _, f := range purged {
		f()
	}
	for _, f := range b.sends {
		f()
	}
	breaksSent(ctx) // later answers may go now (conn_order.go)
	timedOut := false
	if len(b.waits) > 0 {
		// The acknowledgment may come on the connection whose reader
		// serves this request (conn_order.go).
		readingMayWait(ctx)
		timer := time.NewTimer(breakWait)
		defer timer.Stop()
	wait:
		for _, w := range b.waits {
			select {
			case <-w.ch:
			case <-timer.C:
				timedOut = true
				break wait
			case <-ctx.Done():
				break wait
			}
		}
	}
	if res != nil {
		res.acquire(ctx) // fails only when ctx is done, which the caller checks
	}
	sh.mu.Lock()
	if timedOut {
		for _, w := range b.waits {
			switch {
			case w.lease != nil:
				// The holder did not answer: it loses the lease
				// (smbtorture smb2.lease.timeout), and the oplock.
				sh.store.ExpireLeaseBreakLocked(w.lease, w.ch)
			case w.open != nil:
				sh.store.ExpireOplockBreakLocked(w.open, w.ch)
			}
		}
	}
	return true
}

// createBreaks lowers the caching of the other opens of n before a new open
// proceeds (MS-FSA 2.1.5.1.2, 2.1.4.12): a sharing violation breaks
// handle caching (a holder may be caching a closed handle); otherwise write
// caching goes, and an overwrite takes everything. Opens for attributes
// only break nothing. The caller holds sh.mu.
func createBreaks(st stateStore, n *fileNode, own *lease, access, shareAccess, disp uint32, deleting bool, b *breaks) {
	stat := statOpen(access)
	// An open to delete the file also breaks handle caching, as a
	// sharing violation does (smbtorture smb2.lease.unlink).
	conflict := st.ShareConflictLocked(n, nil, access, shareAccess) || deleting
	overwrite := disp == smb2.FileSupersede || disp == smb2.FileOverwrite || disp == smb2.FileOverwriteIf
	for _, x := range st.OpensLocked(n) {
		if sameOwner(x, own) {
			continue
		}
		cur := st.CachingLocked(x)
		if cur == 0 && !st.BreakingLocked(x) {
			continue
		}
		to := cur
		switch {
		case conflict:
			if cur&leaseH == 0 {
				continue // the open will fail: nothing to gain by a break
			}
			to &^= leaseH // smbtorture smb2.lease.break_twice: RWH -> RW
		case overwrite:
			to = 0 // even an open for attributes only takes everything
		case stat || x.lease != nil && leaseStatOpen(access):
			continue
		default:
			to &^= leaseW
		}
		if to != cur || st.BreakingLocked(x) {
			b.lower(x, to, conflict)
		}
	}
}

// handleBreaks lowers the handle caching of the opens of n other than o's
// before o renames or deletes the file (MS-FSA 2.1.5.15.12, 2.1.5.15.3):
// their holders may only be keeping closed handles open. The caller holds
// sh.mu.
func handleBreaks(n *fileNode, o *Open, b *breaks) {
	st := o.share.store
	for _, x := range st.OpensLocked(n) {
		if x == o || sameOwner(x, o.lease) {
			continue
		}
		if cur := st.CachingLocked(x); cur&leaseH != 0 {
			b.lower(x, cur&^leaseH, true)
		}
	}
}

// writeBreaks drops the read caching of the opens of n when o changes the
// file's data (WRITE, truncation, byte-range locks; MS-FSA 2.1.4.12): level
// II oplocks and R leases are broken to none, without waiting. A level II
// oplock breaks even when it is o's own (smbtorture smb2.oplock.batch1,
// brl1, levelii500); a lease never breaks itself. The caller holds sh.mu.
func writeBreaks(n *fileNode, o *Open, b *breaks) {
	st := o.share.store
	for _, x := range st.OpensLocked(n) {
		if x.lease != nil && (x == o || sameOwner(x, o.lease)) {
			continue
		}
		if cur := st.CachingLocked(x); cur&leaseR != 0 && cur&leaseW == 0 {
			b.lower(x, 0, false)
		}
	}
}

// breakReadCaching runs writeBreaks for a change through o; the notifications
// are not waited for.
func (o *Open) breakReadCaching() {
	n := o.node
	if n == nil {
		return
	}
	if c := n.cachers.Load(); c == 0 || c == 1 && o.cacher && o.lease != nil {
		// Nobody but o's own lease caches the file: nothing to break,
		// and no share lock taken (a lease never breaks itself; a
		// level II oplock does, so o's oplock takes the slow path).
		return
	}
	sh := o.share
	var b breaks
	sh.mu.Lock()
	writeBreaks(n, o, &b)
	b.waits = nil
	purged := b.purgeLocked()
	sh.mu.Unlock()
	for _, f := range purged {
		f()
	}
	for _, f := range b.sends {
		f()
	}
}

// breakHandleCaching runs handleBreaks for o and waits for the holders.
func (o *Open) breakHandleCaching(ctx context.Context) {
	n := o.node
	if n == nil {
		return
	}
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := 0; i < 4; i++ {
		var b breaks
		handleBreaks(n, o, &b)
		if !runBreaks(ctx, sh, &b, nil) || ctx.Err() != nil {
			return
		}
	}
}

// leaseRequest is a lease asked for by a CREATE.
type leaseRequest struct {
	smb2.Lease
	id leaseID
}

// leaseRequested is the lease a CREATE asks for (MS-SMB2 3.3.5.9.8,
// 3.3.5.9.11): its lease context (create_contexts.go), honoured on SMB 2.1
// and later when the requested oplock level is SMB2_OPLOCK_LEVEL_LEASE.
func leaseRequested(req *Request, r *smb2.CreateRequest, cx *createContexts) (*leaseRequest, smb2.Status) {
	if r.RequestedOplockLevel != smb2.OplockLevelLease || req.conn.dialect() < smb2.Dialect210 ||
		req.conn.srv.DisableLeasing { // ignored: the open gets no caching
		return nil, smb2.StatusSuccess
	}
	if cx.leaseStatus != smb2.StatusSuccess {
		return nil, cx.leaseStatus
	}
	if cx.lease == nil {
		return nil, smb2.StatusSuccess
	}
	l := *cx.lease
	return &leaseRequest{Lease: l, id: leaseID{client: req.conn.neg.clientGUID, key: l.Key}}, smb2.StatusSuccess
}

// leaseConflict reports whether the requested lease key is already in use
// on a file other than n (MS-SMB2 3.3.5.9.8: STATUS_INVALID_PARAMETER).
// The caller holds sh.mu.
func (s *Server) leaseConflict(lr *leaseRequest, n *fileNode) bool {
	if lr == nil {
		return false
	}
	l := s.state.Lease(lr.id)
	return l != nil && (n == nil || l.node != n)
}

// grantLease gives the new open o (not yet among n's opens) the lease lr asks
// for, sharing the lease of its key if there is one, and returns the
// response context. The caller holds sh.mu.
func (s *Server) grantLease(sh *shareState, n *fileNode, o *Open, lr *leaseRequest) smb2.CreateContext {
	// What the other opens allow: no W beside another open, nothing beside
	// an open that still caches writes (MS-FSA 2.1.5.17.2).
	// Another lease, even of an open for attributes only, or another
	// open for data rules out W; an oplock rules out H as well.
	allowed := leaseR | leaseH | leaseW
	for _, x := range sh.store.OpensLocked(n) {
		if x.lease != nil && x.lease.id == lr.id {
			continue
		}
		c := sh.store.CachingLocked(x)
		switch {
		case c&leaseW != 0:
			allowed = 0
		case x.lease != nil || !leaseStatOpen(x.access):
			allowed &^= leaseW
		}
		if x.lease == nil && c != 0 {
			allowed &^= leaseH
		}
	}
	if s.state.HasLocksLocked(n) {
		allowed &^= leaseW // byte-range locks of others would need W broken
	}
	asked := validLease(lr.State)
	if o.isDir {
		// A directory lease caches reads and handles, never writes
		// (MS-SMB2 3.3.5.9.11; smbtorture smb2.lease.v2_request).
		asked &^= leaseW
		allowed &^= leaseW
	}
	l, created := s.state.JoinLeaseLocked(o, lr.id, asked, allowed, func() *lease {
		l := &lease{id: lr.id, conns: &s.routes, v2: lr.V2, sh: sh, node: n, state: validLease(asked & allowed), dir: o.isDir}
		if lr.V2 {
			l.epoch = lr.Epoch + 1
			if lr.Flags&smb2.LeaseFlagParentLeaseKeySet != 0 {
				l.parentKey, l.hasParent = lr.ParentLeaseKey, true
			}
		}
		return l
	})
	if created && l.dir && sh.dirLeases.Add(1) == 1 {
		// Changes behind cifsd's back break directory leases too
		// (notify_outside.go); the watch may scan the tree.
		go sh.startOutside()
	}
	s.routes.addConn(lr.id.client, o.session.primary())
	// The lease answers in the version it was created with (smbtorture
	// smb2.lease.v2_epoch2, v2_epoch3).
	return leaseResponse(sh.store, l)
}

// dropLease takes the closing o off its lease; the lease ends with its
// last open. The caller holds sh.mu.
func (s *Server) dropLease(o *Open) {
	l := o.lease
	if l == nil || !s.state.LeaveLeaseLocked(o) {
		return
	}
	if l.dir && l.sh.dirLeases.Add(-1) == 0 && !l.sh.watch.active() {
		go l.sh.stopOutsideLater() // not under the share lock
	}
}

// JoinLeaseLocked implements leaseStore.
func (m *memState) JoinLeaseLocked(o *Open, id leaseID, asked, allowed uint32, fresh func() *lease) (*lease, bool) {
	l, created := m.LeaseOrCreate(id, fresh)
	if !created && !l.breaking && asked&l.state == l.state && asked != l.state && asked&^allowed == 0 {
		// An upgrade: only to a strict superset of what is held that the
		// other opens allow; anything else keeps the state (no sidegrade,
		// no downgrade, no partial upgrade).
		l.state = asked
		if l.v2 {
			l.epoch++
		}
	}
	l.opens = append(l.opens, o)
	o.lease = l
	o.oplock = smb2.OplockLevelLease
	return l, created
}

// LeaveLeaseLocked implements leaseStore.
func (m *memState) LeaveLeaseLocked(o *Open) bool {
	l := o.lease
	for i, x := range l.opens {
		if x == o {
			l.opens = append(l.opens[:i], l.opens[i+1:]...)
			break
		}
	}
	if len(l.opens) > 0 {
		return false
	}
	if l.breaking {
		l.endBreak(0)
	}
	m.DropLease(l)
	return true
}

// leaseBreakAck handles a LEASE_BREAK acknowledgement (MS-SMB2 3.3.5.22.2).
func (s *Server) leaseBreakAck(req *Request) *Response {
	var a smb2.LeaseBreakAck
	if err := a.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if req.conn.dialect() < smb2.Dialect210 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	id := leaseID{client: req.conn.neg.clientGUID, key: a.LeaseKey}
	send, st := s.state.AckLeaseBreak(id, a.LeaseState)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if send != nil {
		send()
	}
	return ok(&smb2.LeaseBreakAck{LeaseKey: a.LeaseKey, LeaseState: a.LeaseState})
}

// AckLeaseBreak implements leaseStore.
func (m *memState) AckLeaseBreak(id leaseID, state uint32) (func(), smb2.Status) {
	l := m.Lease(id)
	if l == nil {
		return nil, smb2.StatusObjectNameNotFound
	}
	sh := l.sh
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(l.opens) == 0 {
		return nil, smb2.StatusObjectNameNotFound
	}
	if !l.breaking {
		return nil, smb2.StatusUnsuccessful
	}
	if state&^l.breakTo != 0 {
		// The break goes on: the client may acknowledge again.
		return nil, smb2.StatusRequestNotAccepted
	}
	var send func()
	if extra := state &^ l.want; extra != 0 {
		// A further break was asked for meanwhile: it starts now, one
		// level at a time (W, then H, then R), and the waiters keep
		// waiting for it (smbtorture smb2.lease.breaking3).
		done := l.done
		l.state = state
		l.breaking = false
		to := l.want
		switch {
		case extra&leaseW != 0:
			to = l.state &^ leaseW
		case extra&leaseH != 0:
			to = l.state &^ leaseH
		}
		send = l.startBreak(validLease(to), true)
		if l.breaking {
			l.done = done
		} else {
			close(done)
		}
	} else {
		l.endBreak(state)
	}
	return send, smb2.StatusSuccess
}

// sendLeaseBreak sends the LEASE_BREAK notification (MS-SMB2 2.2.23.2,
// 3.3.4.7): unsolicited, MessageId -1, SessionId 0, not signed.
func (c *conn) sendLeaseBreak(o *Open, n *smb2.LeaseBreakNotification) {
	msg := make([]byte, smb2.HeaderSize+n.Size())
	h := smb2.Header{Command: smb2.OplockBreak, Flags: smb2.FlagsServerToRedir, MessageID: ^uint64(0)}
	h.Encode(msg)
	n.Encode(msg[smb2.HeaderSize:])
	c.sendUnsolicited(msg, o)
}

// sendUnsolicited sends a notification about o, encrypted when o's session
// or tree requires encryption.
func (c *conn) sendUnsolicited(msg []byte, o *Open) {
	if c == nil {
		return // the session has no connection left
	}
	sess := o.session
	if sess.encryptData || o.tree.encrypt {
		c.writeCompound([]respElem{{msg: msg}}, true, sess, false)
		return
	}
	c.send([][]byte{msg}, nil, false)
}

// breakForCreate breaks the caching the new open of the file keyed key
// conflicts with and waits for the holders, as often as needed (MS-FSA
// 2.1.5.1.2). It returns the file's node as it is then (nil when it has no
// opens left) and whether it released the share lock. When a wait is due
// and the CREATE may go async, it returns StatusPending and the breaks to
// run instead (see createPending). The caller holds sh.mu.
func (s *Server) breakForCreate(ctx context.Context, req *Request, sh *shareState, res *reservation, key string, lr *leaseRequest,
	access, shareAccess, disp uint32, deleting bool) (*fileNode, bool, *breaks, smb2.Status) {
	var own *lease
	if lr != nil {
		own = s.state.Lease(lr.id)
	}
	waited := false
	node := sh.store.FileLocked(sh, key)
	for node != nil {
		var b breaks
		createBreaks(sh.store, node, own, access, shareAccess, disp, deleting, &b)
		if len(b.waits) > 0 && canGoAsync(ctx, req) {
			return node, waited, &b, smb2.StatusPending
		}
		if !runBreaks(ctx, sh, &b, res) {
			break
		}
		waited = true
		if ctx.Err() != nil {
			return nil, true, nil, smb2.StatusCancelled
		}
		node = sh.store.FileLocked(sh, key)
	}
	return node, waited, nil, smb2.StatusSuccess
}

type syncCreateKey struct{}

// canGoAsync reports whether a CREATE that must wait for a break may answer
// STATUS_PENDING first (MS-SMB2 3.3.4.2): not inside a compound, and not
// when it is already the async continuation.
func canGoAsync(ctx context.Context, req *Request) bool {
	if req == nil || ctx.Value(syncCreateKey{}) != nil {
		return false
	}
	h := &req.Header
	return h.NextCommand == 0 && h.Flags&smb2.FlagsRelatedOps == 0 && !req.compound.hasFileID
}

// createPending answers STATUS_PENDING for a CREATE that waits for breaks
// b: the breaks run and the CREATE is done again afterwards, its answer
// sent as the async final response. The caller holds sh.mu, and releases
// it when it returns.
func (s *Server) createPending(req *Request, sh *shareState, b *breaks) *Response {
	again := *req
	again.Msg = append([]byte(nil), req.Msg...)
	op := req.goAsync()
	again.compound = &compoundState{}
	again.holds = nil // the continuation runs outside the connection's order (conn_order.go)
	req.conn.goSafe(func() {
		sh.mu.Lock()
		runBreaks(op.ctx, sh, b, nil)
		sh.mu.Unlock()
		ctx := op.ctx
		if ctx.Err() != nil {
			if !s.createOutlivesConn(&again) {
				op.complete(statusResponse(smb2.StatusCancelled))
				return
			}
			// Finished for a replay on another channel (create_replay.go).
			ctx = context.WithoutCancel(ctx)
		}
		op.complete(s.create(context.WithValue(ctx, syncCreateKey{}, true), &again))
	})
	return req.interim(op)
}
