package smb

import (
	"context"
	"sync"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
)

// Durable handles (MS-SMB2 3.3.5.9.6 DHnQ, 3.3.5.9.7 DHnC, 3.3.5.9.10
// DH2Q, 3.3.5.9.12 DH2C, 3.3.7.1).
//
// An open asked to be durable is made so (Open.IsDurable) when it holds a
// batch oplock or a lease that caches handles. When its connection is lost
// (3.3.7.1), its session is logged off (3.3.5.6) or ended by a reconnecting
// client's PreviousSessionId (3.3.5.5.3), a durable open is not closed: it
// is detached from its session, tree and connection and keeps its share
// mode, byte-range locks and caching until the client reattaches it with
// DHnC/DH2C on a new session of the same user, or its timeout
// (Open.DurableOpenTimeout) runs out and the durable open scavenger
// (3.3.2.2) closes it for real (delete-on-close applies then).
// TREE_DISCONNECT, CLOSE and a failed re-authentication close durable
// opens like any other.
//
// A disconnected open cannot acknowledge a break: an operation that would
// break its oplock or lease closes it instead (MS-SMB2 3.3.4.6, 3.3.4.7:
// the break is not sent when the open has no connection, and Windows
// purges the open), and then proceeds as if it had never been there.
//
// No handle is persistent (no share is continuously available):
// SMB2_DHANDLE_FLAG_PERSISTENT is ignored, as Windows ignores it on such a
// share, and never granted.
//
// Durable state lives under the share lock of the open's file
// (shareState.mu); the table has its own lock, taken after a share lock.

// Durable timeouts: the default (a DHnQ, or a DH2Q asking for 0) and the
// most a DH2Q may get (MS-SMB2 3.3.5.9.10: Windows uses 60 s by default
// and caps the request at 300 s).
const (
	durableDefaultTimeout = 60 * time.Second
	durableMaxTimeout     = 300 * time.Second
)

// reconnectTeardownWait bounds how long a reconnect waits for the old
// connection of an open to finish going away.
const reconnectTeardownWait = 5 * time.Second

// durableState is an open's durability (MS-SMB2 3.3.1.10 Open.IsDurable,
// Open.DurableOpenTimeout, Open.DurableOwner, Open.CreateGuid,
// Open.ClientGuid). Under the share lock.
type durableState struct {
	v2           bool
	resilient    bool // made so by FSCTL_LMR_REQUEST_RESILIENCY (open_resilient.go)
	createGuid   [16]byte
	clientGuid   [16]byte
	owner        auth.Identity // Open.DurableOwner
	timeout      time.Duration // Open.DurableOpenTimeout
	disconnected bool          // Open.Connection is NULL: kept for a reconnect
	timer        *time.Timer   // the scavenger of a disconnected open
}

type createGuidKey struct{ client, create [16]byte }

// durableTable is the part of GlobalOpenTable (MS-SMB2 3.3.1.5) that
// outlives sessions: every durable open by its persistent file id, and
// the opens made with a DH2Q by ClientGuid and CreateGuid (for replays).
type durableTable struct {
	mu      sync.Mutex
	byID    map[uint64]*Open
	pending map[createGuidKey]pendingCreate // v2 creates waiting for breaks (create_replay.go)
	replays map[createGuidKey]*Open         // opens made with a DH2Q, durable or not (create_replay.go)

	// Timeouts; zero means durableDefaultTimeout and durableMaxTimeout
	// (tests shorten them).
	defTimeout, maxTimeout time.Duration
}

func (t *durableTable) add(o *Open, d *durableState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = make(map[uint64]*Open)
	}
	t.byID[o.id.Persistent] = o
}

func (t *durableTable) remove(o *Open, d *durableState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[o.id.Persistent] == o {
		delete(t.byID, o.id.Persistent)
	}
}

func (t *durableTable) lookup(persistent uint64) *Open {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[persistent]
}

// timeouts returns the default and the largest timeout.
func (t *durableTable) timeouts() (def, max time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	def, max = t.defTimeout, t.maxTimeout
	if def == 0 {
		def = durableDefaultTimeout
	}
	if max == 0 {
		max = durableMaxTimeout
	}
	return min(def, max), max
}

// durableRequest is what the durable create contexts of a CREATE ask for
// (create_contexts.go reads and checks them).
type durableRequest struct {
	v1, v2      bool // DHnQ, DH2Q: make the new open durable
	reconnect   bool // DHnC or DH2C
	reconnectV2 bool // DH2C
	fileID      smb2.FileID
	createGuid  [16]byte
	timeout     uint32 // DH2Q's, in milliseconds
}

// grantDurable makes the new open o durable when its caching allows it
// (MS-SMB2 3.3.5.9.6, 3.3.5.9.10: a batch oplock, or a lease caching
// handles; never a directory) and returns the response context. The caller
// holds sh.mu.
func (s *Server) grantDurable(req *Request, o *Open, dr *durableRequest) *smb2.CreateContext {
	if s.DisableDurableHandles || !dr.v1 && !dr.v2 || o.isDir || o.node == nil || o.stream != "" {
		return nil
	}
	if s.state.CachingLocked(o)&leaseH == 0 {
		return nil // neither a batch oplock nor a lease caching handles
	}
	def, max := s.state.DurableTimeouts()
	d := &durableState{
		v2:         dr.v2,
		createGuid: dr.createGuid,
		clientGuid: req.conn.neg.clientGUID,
		owner:      req.Session.Identity(),
		timeout:    def,
	}
	if dr.v2 && dr.timeout != 0 {
		d.timeout = min(time.Duration(dr.timeout)*time.Millisecond, max)
	}
	s.state.GrantDurableLocked(o, d)
	return durableResponse(d)
}

func durableResponse(d *durableState) *smb2.CreateContext {
	var c smb2.CreateContext
	if d.v2 {
		c = smb2.DurableResponseV2{Timeout: uint32(d.timeout / time.Millisecond)}.Context()
	} else {
		c = smb2.DurableResponse{}.Context()
	}
	return &c
}

// isDisconnected reports whether o is a durable open kept without a
// connection. The caller holds o.share.mu.
func (o *Open) isDisconnected() bool { return o.durable != nil && o.durable.disconnected }

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// keepDurable detaches the durable open o from its session, which ends by
// the loss of its connection, LOGOFF or a reconnect (MS-SMB2 3.3.7.1,
// 3.3.5.6, 3.3.5.5.3): the store keeps it until a reconnect, or closes it
// when its timeout runs out (the durable open scavenger, 3.3.2.2). It
// reports false when o is to be closed instead: it is not durable, a break
// of its caching is in progress (its holder can no longer acknowledge it),
// or the server is closing.
func (s *Server) keepDurable(o *Open) bool {
	if o.node == nil || s.isClosed() {
		return false
	}
	if !s.state.DetachDurable(o, func() { o.close() }) {
		return false
	}
	o.mu.Lock()
	notifies := o.notifies
	o.notifies = nil
	o.mu.Unlock()
	for _, op := range notifies {
		op.cancel()
	}
	return true
}

// purgeLocked closes the disconnected opens a break would have gone to
// (MS-SMB2 3.3.4.6, 3.3.4.7): what needs no lock happens in the returned
// functions, to be run once sh.mu is released. The caller holds sh.mu.
func (b *breaks) purgeLocked() []func() {
	var out []func()
	for _, o := range b.purge {
		if rest := o.closeLocked(); rest != nil {
			out = append(out, rest)
		}
	}
	b.purge = nil
	return out
}

// allDisconnected reports whether every open of l is disconnected. The
// caller holds sh.mu.
func (l *lease) allDisconnected() bool {
	for _, o := range l.opens {
		if !o.isDisconnected() {
			return false
		}
	}
	return len(l.opens) > 0
}

// reclaimReply builds the CREATE response for the reclaimed open o, its
// caching as the store found it. A reconnect gets no durable context
// (smbtorture smb2.durable-open.reopen2-lease-v2).
func (s *Server) reclaimReply(ctx context.Context, req *Request, cx *createContexts, o *Open, rc reclaimed) (*smb2.CreateResponse, smb2.Status) {
	fi, err := o.stat(ctx)
	if err != nil {
		return nil, statusOf(err)
	}
	m := metaOf(fi)
	o.applyAlloc(&m) // info_alloc.go
	return s.createReply(req, cx, createAnswer{id: o.id, meta: m, oplock: rc.oplock, action: fileOpened,
		lease: rc.lease}), smb2.StatusSuccess
}

// leaseResponse is the lease context answering for l as st has it. The
// caller holds sh.mu.
func leaseResponse(st leaseStore, l *lease) smb2.CreateContext {
	state, epoch, breaking := st.LeaseStateLocked(l)
	resp := smb2.Lease{Key: l.id.key, State: state, V2: l.v2}
	if breaking {
		resp.Flags |= smb2.LeaseFlagBreakInProgress
	}
	if l.v2 {
		resp.Epoch = epoch
		if l.hasParent {
			resp.Flags |= smb2.LeaseFlagParentLeaseKeySet
			resp.ParentLeaseKey = l.parentKey
		}
	}
	return resp.Context()
}

// awaitTeardown waits, for a while, for the connection o is still attached
// to when that connection is going away: a client reconnects as soon as it
// has lost its connection, possibly before the server has noticed.
func awaitTeardown(o *Open) {
	sh := o.share
	sh.mu.Lock()
	var c *conn
	if d := o.durable; d != nil && !d.disconnected && o.session != nil {
		c = o.session.primary()
	}
	sh.mu.Unlock()
	if c == nil || c.ctx.Err() == nil {
		return
	}
	t := time.NewTimer(reconnectTeardownWait)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
	}
}

// durableReconnect reattaches a disconnected durable open to the session
// and tree of req (MS-SMB2 3.3.5.9.7 DHnC, 3.3.5.9.12 DH2C). The open
// keeps its FileId, share mode, locks and caching.
func (s *Server) durableReconnect(ctx context.Context, req *Request, r *smb2.CreateRequest, cx *createContexts) *Response {
	dr := &cx.durable
	if o := s.state.DurableOpen(dr.fileID.Persistent); o == nil || o.share != req.Tree.share {
		// Before the contexts are looked at (the store checks again).
		return statusResponse(smb2.StatusObjectNameNotFound)
	}
	// The lease context counts whatever the requested oplock level: a
	// reconnecting client may leave the level 0 (MS-SMB2 3.3.5.9.7).
	if cx.leaseStatus != smb2.StatusSuccess {
		return statusResponse(cx.leaseStatus)
	}
	lr := cx.lease
	name, _, st := cleanPath(r.Name)
	if st != smb2.StatusSuccess {
		name = ""
	}
	c := &durableClaim{
		persistent: dr.fileID.Persistent,
		share:      req.Tree.share,
		v2:         dr.reconnectV2,
		createGuid: dr.createGuid,
		clientGuid: req.conn.neg.clientGUID,
		leasing:    req.conn.dialect() >= smb2.Dialect210,
		name:       name,
		user:       req.Session.Identity(),
		session:    req.Session,
		tree:       req.Tree,
	}
	if lr != nil {
		c.leaseKey = &lr.Key
	}
	o, rc, st := s.state.ReclaimDurable(ctx, c)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	resp, st := s.reclaimReply(ctx, req, cx, o, rc)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	req.compound.fileID, req.compound.hasFileID = o.id, true
	s.logger().Debug("durable open reconnected", "name", o.name, "session", req.Session.ID)
	return ok(resp)
}

// check applies the rules of a reconnect (MS-SMB2 3.3.5.9.7, 3.3.5.9.12)
// to the durable open o with its state d, in the order Windows and Samba
// apply them. The caller holds o.share.mu.
func (c *durableClaim) check(o *Open, d *durableState) smb2.Status {
	switch {
	case d == nil:
		return smb2.StatusObjectNameNotFound // closed meanwhile
	case c.v2 && d.createGuid != c.createGuid:
		// 3.3.5.9.12. A DHnQ open has no CreateGuid: a DH2C with none
		// reattaches it (smbtorture smb2.durable-open.reopen2-lease).
		return smb2.StatusObjectNameNotFound
	case o.lease != nil && d.clientGuid != c.clientGuid:
		return smb2.StatusObjectNameNotFound
	case o.lease != nil && (c.leaseKey == nil || *c.leaseKey != o.lease.id.key),
		o.lease == nil && c.leaseKey != nil && c.leasing:
		return smb2.StatusObjectNameNotFound
	case o.lease != nil && !o.deleteOnClose && foldKey(c.name) != foldKey(o.name):
		// 3.3.5.9.7: the lease is on another file than the one named
		// (smbtorture smb2.durable-open.reopen2-lease: checked after the
		// lease key, unlike for oplocks, where the name is ignored).
		return smb2.StatusInvalidParameter
	case !d.disconnected:
		return smb2.StatusObjectNameNotFound // Open.Session is not NULL
	case !sameUser(d.owner, c.user):
		return smb2.StatusAccessDenied
	}
	return smb2.StatusSuccess
}

// The durable table in memory (memState's durableStore): an open's
// durableState lives on the open, under its share lock; the table indexes
// the durable opens by persistent id under its own lock, taken after a
// share lock.

// DurableTimeouts implements durableStore.
func (m *memState) DurableTimeouts() (def, max time.Duration) { return m.durables.timeouts() }

// GrantDurableLocked implements durableStore.
func (m *memState) GrantDurableLocked(o *Open, d *durableState) {
	o.durable = d
	m.durables.add(o, d)
}

// DropDurableLocked implements durableStore.
func (m *memState) DropDurableLocked(o *Open) {
	d := o.durable
	if d == nil {
		return
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	o.durable = nil
	m.durables.remove(o, d)
}

// DurableOpen implements durableStore.
func (m *memState) DurableOpen(persistent uint64) *Open { return m.durables.lookup(persistent) }

// DetachDurable implements durableStore.
func (m *memState) DetachDurable(o *Open, expire func()) bool {
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	d := o.durable
	if d == nil || d.disconnected || o.oplockBroken != nil || o.lease != nil && o.lease.breaking || o.closed() {
		return false
	}
	d.disconnected = true
	d.timer = time.AfterFunc(d.timeout, func() {
		sh.mu.Lock()
		if o.durable != d || !d.disconnected {
			sh.mu.Unlock()
			return
		}
		m.DropDurableLocked(o) // no reconnect may take it now
		sh.mu.Unlock()
		expire()
	})
	return true
}

// ReclaimDurable implements durableStore.
func (m *memState) ReclaimDurable(ctx context.Context, c *durableClaim) (*Open, reclaimed, smb2.Status) {
	o := m.durables.lookup(c.persistent)
	if o == nil || o.share != c.share {
		return nil, reclaimed{}, smb2.StatusObjectNameNotFound
	}
	awaitTeardown(o)
	sh := o.share
	sh.mu.Lock()
	defer sh.mu.Unlock()
	d := o.durable
	if st := c.check(o, d); st != smb2.StatusSuccess {
		return nil, reclaimed{}, st
	}
	d.disconnected = false
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.clientGuid != c.clientGuid {
		m.durables.remove(o, d)
		d.clientGuid = c.clientGuid
		m.durables.add(o, d)
	}
	o.session, o.tree = c.session, c.tree
	m.AddOpen(c.session, o) // under its file id
	rc := reclaimed{oplock: o.oplock}
	if l := o.lease; l != nil {
		lc := leaseResponse(m, l)
		rc.lease = &lc
	}
	return o, rc, smb2.StatusSuccess
}

// NotePending implements durableStore (create_replay.go).
func (m *memState) NotePending(req *Request, dr *durableRequest) { m.durables.notePending(req, dr) }

// IsPending implements durableStore (create_replay.go).
func (m *memState) IsPending(client, create [16]byte, req *Request) bool {
	return m.durables.isPending(client, create, req)
}

// NoteReplayable implements durableStore (create_replay.go).
func (m *memState) NoteReplayable(req *Request, o *Open, dr *durableRequest, action uint32, mt meta) {
	m.durables.noteReplayable(req, o, dr, action, mt)
}

// Replayable implements durableStore (create_replay.go).
func (m *memState) Replayable(client, create [16]byte) *Open {
	return m.durables.replayable(client, create)
}
