package smb

import (
	"context"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
)

// The state tables request handling goes through (MS-FSA 2.1.1.6 a
// file's OpenList with its share modes and delete-pending, MS-SMB2 3.3.1.5
// GlobalOpenTable, 3.3.1.4 GlobalLeaseTableList, MS-FSA 2.1.5.8 a
// stream's ByteRangeLockList), so that a store other than memory (a
// persistent one, or one a cluster of servers shares) can replace them
// without touching the handlers. Each method is one decision the store
// makes atomically: an open is admitted by the share modes and
// delete-pending of its file's opens, and published, in one step each; a
// durable open is detached or reclaimed as a whole, a
// lease is found or created by ClientGuid and LeaseKey in one step, a
// byte-range lock request is checked against the file's locks and granted
// in one step; a break of a lease or an oplock starts, is acknowledged or
// expires in one step, which returns what to send and what to wait for. What the methods decide on is named by the open (its
// persistent id, its file node); the rules of the protocol that are not
// about the tables stay with the handlers.
//
// memState is the only implementation: the tables in memory, made atomic
// by the share lock of the file (shareState.mu) and the tables' own
// mutexes, taken after it (doc/ARCHITECTURE.md, "Concurrency"). Methods
// whose names end in Locked are called with the share lock of the open's
// file held, as part of a larger change of that file's state (a CREATE's
// publish, a CLOSE's release); the others take what they need.
//
// Not behind the interface yet (doc/ARCHITECTURE.md, "Concurrency", says
// what and why): handlers hold the file nodes and leases the store hands
// out, and READ and WRITE read a node's lock-free counters directly; the
// break decisions (which opens to break, to what) are the handlers',
// made on the store's answers (OpensLocked, CachingLocked,
// BreakingLocked).
type stateStore interface {
	fileStore        // state_files.go
	sessionOpenStore // state_sessions.go
	durableStore
	leaseStore
	lockStore
}

// durableStore keeps the durable and resilient opens by persistent id
// (open_durable.go), and the opens made with a DH2Q by CreateGuid (create_replay.go).
type durableStore interface {
	// DurableTimeouts returns the default timeout of a durable open and
	// the largest one a client may ask for.
	DurableTimeouts() (def, max time.Duration)
	// GrantDurableLocked makes o durable (or resilient) with d:
	// reclaimable by its persistent id once detached.
	GrantDurableLocked(o *Open, d *durableState)
	// DropDurableLocked ends o's durability as o closes.
	DropDurableLocked(o *Open)
	// DetachDurable keeps the durable open o without a connection until a
	// reclaim or its timeout, when the store forgets it and calls expire
	// (which closes it for real). It reports false when o is to be closed
	// at once: not durable, detached already, closed, or a break of its
	// caching in progress.
	DetachDurable(o *Open, expire func()) bool
	// ReclaimDurable reattaches the detached open c names to c's session
	// and tree, when c's claims match what the open was made with
	// (durableClaim.check), and returns it with its caching as it is.
	ReclaimDurable(ctx context.Context, c *durableClaim) (*Open, reclaimed, smb2.Status)
	// DurableOpen returns the durable open of a persistent id.
	DurableOpen(persistent uint64) *Open

	// NotePending records that req, a CREATE with a DH2Q, went async.
	NotePending(req *Request, dr *durableRequest)
	// IsPending reports whether a CREATE of the CreateGuid other than req
	// is waiting for breaks.
	IsPending(client, create [16]byte, req *Request) bool
	// NoteReplayable records that the CREATE req, with a DH2Q, made o.
	NoteReplayable(req *Request, o *Open, dr *durableRequest, action uint32, m meta)
	// Replayable returns the open a CREATE of the CreateGuid made, while
	// it is open.
	Replayable(client, create [16]byte) *Open
}

// durableClaim is what a DHnC or DH2C reconnect asserts about the open it
// reclaims (MS-SMB2 3.3.5.9.7, 3.3.5.9.12).
type durableClaim struct {
	persistent uint64
	share      *shareState
	v2         bool     // DH2C: createGuid must match
	createGuid [16]byte // DH2C's
	clientGuid [16]byte // the reconnecting connection's
	leaseKey   *[16]byte
	leasing    bool   // the dialect has leases (2.1 and later)
	name       string // the CREATE's, cleaned; "" when invalid
	user       auth.Identity
	session    *Session
	tree       *Tree
}

// reclaimed is the caching of an open as ReclaimDurable found it, to
// answer the reconnect with.
type reclaimed struct {
	lease  *smb2.CreateContext
	oplock uint8
}

// leaseStore is the GlobalLeaseTableList (lease.go): every lease by
// ClientGuid and LeaseKey, and the transitions of a lease's state (its
// grant and upgrade, a break's start, acknowledgement and timeout, its
// end with its last open), each decided in one step. The state lives on
// the lease, under its file's share lock; the decisions on what to break
// (which opens, to what) stay with the handlers (lease.go).
type leaseStore interface {
	// Lease returns the lease of id, nil when there is none.
	Lease(id leaseID) *lease
	// LeaseOrCreate returns the lease of id, or the one made by fresh
	// and stored under id when there is none (created true).
	LeaseOrCreate(id leaseID, fresh func() *lease) (l *lease, created bool)
	// DropLease forgets l, the lease of its id, when its last open closed.
	DropLease(l *lease)
	// LeaseCount is the number of leases held.
	LeaseCount() int

	// JoinLeaseLocked makes o, a new open not yet published, an open of
	// the lease of id (o.lease, o.oplock a lease's): the one fresh
	// makes when there is none (created true), else the one there is,
	// upgraded to asked when asked is a strict superset of its state
	// that allowed (what the file's other opens allow) permits and no
	// break is in progress (MS-SMB2 3.3.5.9.8). The caller holds the
	// share lock of o's file.
	JoinLeaseLocked(o *Open, id leaseID, asked, allowed uint32, fresh func() *lease) (l *lease, created bool)
	// LeaveLeaseLocked takes the closing o off its lease. It reports
	// whether the lease ended: o was its last open, a break in progress
	// ends with nothing cached, and the lease is dropped from the table.
	// The caller holds the share lock of o's file.
	LeaveLeaseLocked(o *Open) (ended bool)
	// BreakLeaseLocked lowers l to at most to (MS-SMB2 3.3.4.7): a break
	// from W or H starts and needs an acknowledgement, one from R alone
	// takes effect at once, one while a break is in progress lowers what
	// the acknowledgement must give up to. It returns what to send, what
	// to wait for (a lease caching writes, or handles when shareBreak:
	// the break resolves a sharing violation), or, when every open of l
	// is a detached durable one, the opens to close instead. The caller
	// holds the share lock of l's file.
	BreakLeaseLocked(l *lease, to uint32, shareBreak bool) breakStep
	// AckLeaseBreak applies a LEASE_BREAK acknowledgement of the lease of
	// id giving up to state (MS-SMB2 3.3.5.22.2): StatusObjectNameNotFound
	// when there is no such lease, StatusUnsuccessful when no break is in
	// progress, StatusRequestNotAccepted when state keeps more than the
	// break allows (the break goes on). On success it returns the
	// notification of a further break asked for meanwhile, one level at a
	// time (nil when none): the waiters then wait for that one. It takes
	// the share lock of the lease's file.
	AckLeaseBreak(id leaseID, state uint32) (send func(), st smb2.Status)
	// GrantOplockLocked gives o, a new open without a lease not yet
	// published, the oplock level its CREATE decided (grantOplock,
	// MS-FSA 2.1.5.17.1). The caller holds the share lock of o's file.
	GrantOplockLocked(o *Open, level uint8)
	// OplockLocked is o's oplock level as a CREATE answers it
	// (SMB2_OPLOCK_LEVEL_LEASE for an open under a lease). The caller
	// holds the share lock of o's file.
	OplockLocked(o *Open) uint8
	// LeaseStateLocked returns l's state, its epoch (v2) and whether a
	// break of it waits for an acknowledgement, for a CREATE's answer.
	// The caller holds the share lock of l's file.
	LeaseStateLocked(l *lease) (state uint32, epoch uint16, breaking bool)
	// CachingLocked is the caching o holds, as lease bits: its lease's
	// state, or its oplock's level as bits (level II R, exclusive RW,
	// batch RWH). The caller holds the share lock of o's file.
	CachingLocked(o *Open) uint32
	// BreakingLocked reports whether a break of o's caching (its lease's
	// or its oplock's) waits for an acknowledgement. The caller holds
	// the share lock of o's file.
	BreakingLocked(o *Open) bool
	// BreakOplockLocked lowers the oplock of o (an open without a lease)
	// to the level that keeps at most the caching to, as lease bits
	// (MS-SMB2 3.3.4.6): from level II to none at once, from exclusive
	// or batch a break that needs an acknowledgement and is waited for;
	// while one is in progress, it lowers what the acknowledgement must
	// give up to and waits for it. A detached durable open is closed
	// instead (purge).
	BreakOplockLocked(o *Open, to uint32) breakStep
	// AckOplockBreak applies an OPLOCK_BREAK acknowledgement of o to
	// level (MS-SMB2 3.3.5.22.1): StatusInvalidOplockProtocol when no
	// break is in progress, or when level is more than the break allows
	// or not level II or none (o then loses its oplock, as if the break
	// timed out). further reports that a later break asked for none
	// meanwhile: o is at none already, and the caller notifies the
	// client of that break, which from level II needs no
	// acknowledgement. It takes the share lock of o's file.
	AckOplockBreak(o *Open, level uint8) (further bool, st smb2.Status)
	// ExpireOplockBreakLocked ends o's break that ch waited for,
	// unacknowledged in time: o loses its oplock. A break ended
	// meanwhile is left alone. The caller holds the share lock.
	ExpireOplockBreakLocked(o *Open, ch chan struct{})
	// EndOplockLocked ends o's oplock as o closes: no level, and a
	// break in progress over (its waiters go on). The caller holds the
	// share lock.
	EndOplockLocked(o *Open)
	// ExpireLeaseBreakLocked ends the break of l that ch (a
	// breakStep.wait) waited for, unacknowledged in time: l caches
	// nothing. A break ended meanwhile is left alone. The caller holds
	// the share lock of l's file.
	ExpireLeaseBreakLocked(l *lease, ch chan struct{})
}

// breakStep is what BreakLeaseLocked decided: the notification to send
// (nil for none), the channel closed when the break ends (nil when
// nothing is to wait for it), or the opens to close instead of a break.
type breakStep struct {
	send  func()
	wait  chan struct{}
	purge []*Open
}

// lockRange is one byte-range lock asked for: n bytes at off, exclusive
// or shared.
type lockRange struct {
	off, n    uint64
	exclusive bool
}

// lockStore holds the byte-range locks of files (io_lock.go), per file
// node. The lock sequence of a request (Open.LockSequenceArray) is
// recorded with the change it made, in the same step.
type lockStore interface {
	// LockRanges grants all of rs to o, in order (each checked against the
	// locks held and those granted before it), or none; it returns the
	// index of the first range that conflicts, or -1 when all were
	// granted.
	LockRanges(o *Open, rs []lockRange, seq lockSeq) int
	// LockOrWatch is LockRanges for one range that may wait: when it
	// conflicts, it returns a channel closed the next time locks of the
	// file are released. closed reports that o is closed.
	LockOrWatch(o *Open, r lockRange, seq lockSeq) (granted, closed bool, changed <-chan struct{})
	// TestRanges is LockRanges without granting anything.
	TestRanges(o *Open, rs []lockRange) int
	// UnlockRanges releases, in order, ranges o locked, each exactly as
	// locked (the exclusive lock first where both kinds share a range);
	// it returns how many it released: fewer than len(rs) when the next
	// was not locked by o. seq is recorded when all were released.
	UnlockRanges(o *Open, rs []lockRange, seq lockSeq) int
	// ReleaseLocksLocked drops every lock o holds, as o closes.
	ReleaseLocksLocked(o *Open)
	// HasLocksLocked reports whether the file of n has byte-range locks
	// (which rule out caching writes).
	HasLocksLocked(n *fileNode) bool
	// LockCount is the number of locks o holds.
	LockCount(o *Open) int
	// IOConflict reports whether byte-range locks forbid o to read
	// (write false) or write length bytes at off (MS-FSA 2.1.4.10).
	IOConflict(o *Open, off, length uint64, write bool) bool
}

// memState is the state tables in memory.
type memState struct {
	durables durableTable
	leases   leaseTable
}

var _ stateStore = (*memState)(nil)
