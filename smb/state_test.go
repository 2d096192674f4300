package smb

import (
	"context"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// The contract of the state tables (state.go), checked through the
// interface: another store must pass the same tests. newTestStore is the
// one implementation there is.
func newTestStore() stateStore { return &memState{} }

// storeOpens returns n opens of one file of a fresh share.
func storeOpens(n int) []*Open {
	sh := newShareState(&Share{Name: "s", FS: vfs.NewMem()})
	node := sh.nodeLocked("f.txt")
	opens := make([]*Open, n)
	for i := range opens {
		opens[i] = &Open{share: sh, node: node, name: "f.txt", id: smb2.FileID{Persistent: uint64(i + 1), Volatile: uint64(i + 1)}}
		node.addOpenLocked(opens[i])
	}
	return opens
}

func TestStateLocks(t *testing.T) {
	st := newTestStore()
	opens := storeOpens(2)
	a, b := opens[0], opens[1]
	excl := func(off, n uint64) lockRange { return lockRange{off: off, n: n, exclusive: true} }
	shared := func(off, n uint64) lockRange { return lockRange{off: off, n: n} }

	if i := st.LockRanges(a, []lockRange{excl(0, 10)}, lockSeq{}); i != -1 {
		t.Fatalf("first lock: conflict at %d", i)
	}
	// A request is granted whole or not at all: b's first range is free,
	// its second is a's.
	if i := st.LockRanges(b, []lockRange{excl(20, 5), shared(5, 1)}, lockSeq{}); i != 1 {
		t.Fatalf("conflicting request: index %d, want 1", i)
	}
	if i := st.TestRanges(a, []lockRange{excl(20, 5)}); i != -1 {
		t.Fatalf("b's first range stayed locked after its request failed")
	}
	if got := st.LockCount(b); got != 0 {
		t.Fatalf("b holds %d locks, want 0", got)
	}
	// An open stacks a shared lock on its own exclusive one, never an
	// exclusive one.
	if i := st.LockRanges(a, []lockRange{shared(0, 10)}, lockSeq{}); i != -1 {
		t.Fatal("shared lock on the open's own exclusive lock refused")
	}
	if i := st.TestRanges(a, []lockRange{excl(0, 1)}); i != 0 {
		t.Fatal("exclusive lock stacked on the open's own lock")
	}
	if got := st.LockCount(a); got != 2 {
		t.Fatalf("a holds %d locks, want 2", got)
	}
	// Reads and writes: another open's exclusive lock blocks both, a
	// shared lock blocks writes, its owner's too.
	if !st.IOConflict(b, 0, 4, false) || st.IOConflict(a, 0, 4, false) || !st.IOConflict(a, 0, 4, true) {
		t.Fatal("I/O check does not follow the locks")
	}
	if st.IOConflict(b, 10, 4, true) {
		t.Fatal("I/O past the locked range refused")
	}
	// Unlocks go in order and stop at the first range not locked.
	if n := st.UnlockRanges(a, []lockRange{excl(0, 10), excl(50, 1), excl(0, 10)}, lockSeq{}); n != 1 {
		t.Fatalf("unlock released %d ranges, want 1", n)
	}
	// A blocked request watches for releases: the channel is closed when
	// a lock of the file goes, and the retry then succeeds.
	granted, closed, changed := st.LockOrWatch(b, excl(0, 10), lockSeq{})
	if granted || closed || changed == nil {
		t.Fatalf("blocked lock: granted %v closed %v", granted, closed)
	}
	if n := st.UnlockRanges(a, []lockRange{shared(0, 10)}, lockSeq{}); n != 1 {
		t.Fatalf("unlock of the shared lock released %d", n)
	}
	select {
	case <-changed:
	default:
		t.Fatal("the waiter was not woken by the release")
	}
	if granted, _, _ := st.LockOrWatch(b, excl(0, 10), lockSeq{}); !granted {
		t.Fatal("the retry after the release was not granted")
	}
	// A request that succeeds records its lock sequence with it; one that
	// fails does not.
	seq := lockSeq{o: a, index: 3, num: 7}
	if i := st.LockRanges(a, []lockRange{excl(5, 1)}, seq); i != 0 {
		t.Fatalf("lock in b's range: %d", i)
	}
	if a.lockSeq[2].valid {
		t.Fatal("a failed request recorded its lock sequence")
	}
	if i := st.LockRanges(a, []lockRange{excl(100, 1)}, seq); i != -1 || !a.lockSeq[2].valid || a.lockSeq[2].num != 7 {
		t.Fatalf("lock sequence not recorded with the grant: %d %+v", i, a.lockSeq[2])
	}
	// A closed open's locks go with it, and its waiters are told.
	a.share.mu.Lock()
	st.ReleaseLocksLocked(b)
	has := st.HasLocksLocked(b.node)
	a.share.mu.Unlock()
	if !has || st.LockCount(b) != 0 {
		t.Fatal("release at close: wrong locks left")
	}
	b.isClosed = true
	if _, closed, _ := st.LockOrWatch(b, excl(100, 1), lockSeq{}); !closed {
		t.Fatal("a closed open's wait was not ended")
	}
}

func TestStateLeases(t *testing.T) {
	st := newTestStore()
	id := leaseID{client: [16]byte{1}, key: [16]byte{2}}
	made := 0
	fresh := func() *lease { made++; return &lease{id: id, state: leaseR} }
	l, created := st.LeaseOrCreate(id, fresh)
	if !created || l == nil || st.Lease(id) != l {
		t.Fatal("lease not created")
	}
	if l2, created := st.LeaseOrCreate(id, fresh); created || l2 != l || made != 1 {
		t.Fatal("a second open with the key did not get the same lease")
	}
	// The key is per client.
	other := leaseID{client: [16]byte{9}, key: id.key}
	if st.Lease(other) != nil {
		t.Fatal("another client's key found the lease")
	}
	st.LeaseOrCreate(other, func() *lease { return &lease{id: other} })
	if st.LeaseCount() != 2 {
		t.Fatalf("%d leases, want 2", st.LeaseCount())
	}
	st.DropLease(l)
	if st.Lease(id) != nil || st.LeaseCount() != 1 {
		t.Fatal("lease not dropped")
	}
	// Dropping a lease the table no longer has leaves its successor.
	l3, _ := st.LeaseOrCreate(id, fresh)
	st.DropLease(l)
	if st.Lease(id) != l3 {
		t.Fatal("dropping a stale lease removed the key's new one")
	}
}

func TestStateDurables(t *testing.T) {
	st := newTestStore()
	o := storeOpens(1)[0]
	sh := o.share
	owner := auth.Identity{User: "alice"}
	create := [16]byte{7}
	d := &durableState{v2: true, createGuid: create, clientGuid: [16]byte{1}, owner: owner, timeout: durableMaxTimeout}
	sh.mu.Lock()
	st.GrantDurableLocked(o, d)
	sh.mu.Unlock()
	if st.DurableOpen(o.id.Persistent) != o {
		t.Fatal("durable open not found by its persistent id")
	}
	claim := func() *durableClaim {
		return &durableClaim{persistent: o.id.Persistent, share: sh, v2: true, createGuid: create,
			clientGuid: [16]byte{1}, user: owner, session: &Session{}, name: "f.txt"}
	}
	ctx := context.Background()
	// Attached, it cannot be reclaimed.
	if _, _, s := st.ReclaimDurable(ctx, claim()); s != smb2.StatusObjectNameNotFound {
		t.Fatalf("reclaim of an attached open: %v", s)
	}
	if !st.DetachDurable(o, func() { t.Error("expired") }) {
		t.Fatal("durable open not detached")
	}
	if st.DetachDurable(o, func() {}) {
		t.Fatal("detached twice")
	}
	c := claim()
	c.user = auth.Identity{User: "mallory"}
	if _, _, s := st.ReclaimDurable(ctx, c); s != smb2.StatusAccessDenied {
		t.Fatalf("reclaim by another user: %v", s)
	}
	c = claim()
	c.createGuid = [16]byte{8}
	if _, _, s := st.ReclaimDurable(ctx, c); s != smb2.StatusObjectNameNotFound {
		t.Fatalf("reclaim with another CreateGuid: %v", s)
	}
	c = claim()
	got, _, s := st.ReclaimDurable(ctx, c)
	if s != smb2.StatusSuccess || got != o || o.session != c.session || c.session.lookupOpen(o.id) != o {
		t.Fatalf("reclaim: %v", s)
	}
	if _, _, s := st.ReclaimDurable(ctx, claim()); s != smb2.StatusObjectNameNotFound {
		t.Fatalf("second reclaim: %v", s)
	}
	// Detached again, its timeout closes it: the store forgets it first.
	sh.mu.Lock()
	d.timeout = 0
	sh.mu.Unlock()
	expired := make(chan struct{})
	if !st.DetachDurable(o, func() { close(expired) }) {
		t.Fatal("not detached after the reclaim")
	}
	<-expired
	if st.DurableOpen(o.id.Persistent) != nil {
		t.Fatal("expired open still reclaimable")
	}
	if _, _, s := st.ReclaimDurable(ctx, claim()); s != smb2.StatusObjectNameNotFound {
		t.Fatalf("reclaim after expiry: %v", s)
	}
}
