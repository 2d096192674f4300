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

// storeShare returns a fresh share whose files st keeps.
func storeShare(st stateStore) *shareState {
	sh := newShareState(&Share{Name: "s", FS: vfs.NewMem()})
	sh.store = st
	return sh
}

// storeOpens returns n opens of one file of a fresh share, published
// through st.
func storeOpens(st stateStore, n int) []*Open {
	sh := storeShare(st)
	opens := make([]*Open, n)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := range opens {
		opens[i] = &Open{share: sh, name: "f.txt", id: smb2.FileID{Persistent: uint64(i + 1), Volatile: uint64(i + 1)}}
		st.PublishLocked(opens[i], nil)
	}
	return opens
}

func TestStateLocks(t *testing.T) {
	st := newTestStore()
	opens := storeOpens(st, 2)
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
	o := storeOpens(st, 1)[0]
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
	if s != smb2.StatusSuccess || got != o || o.session != c.session || st.LookupOpen(c.session, o.id) != o {
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

// publish makes an open of name (and stream) of sh through st, with
// access and shareAccess, after admitting it; it returns the open, or nil
// and the status of a refusal.
func publish(st stateStore, sh *shareState, name, stream string, access, shareAccess uint32) (*Open, smb2.Status) {
	key := foldKey(name)
	if stream != "" {
		key = streamKey(name, stream)
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s := st.AdmitLocked(sh, foldKey(name), key, access, shareAccess); s != smb2.StatusSuccess {
		return nil, s
	}
	o := &Open{share: sh, name: name, stream: stream, access: access, shareAccess: shareAccess}
	st.PublishLocked(o, nil)
	return o, smb2.StatusSuccess
}

// fileOpens returns the opens of key as st lists them.
func fileOpens(st stateStore, sh *shareState, key string) []*Open {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if n := st.FileLocked(sh, key); n != nil {
		return append([]*Open(nil), st.OpensLocked(n)...)
	}
	return nil
}

// closeOpen takes o out through st, as a CLOSE does, and returns what the
// store says is to be deleted.
func closeOpen(st stateStore, o *Open) (bool, string) {
	o.share.mu.Lock()
	defer o.share.mu.Unlock()
	return st.RemoveOpenLocked(o)
}

func TestStateShareModes(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	const read, write = smb2.FileReadData, smb2.FileWriteData
	shareRead, shareRW := uint32(smb2.FileShareRead), uint32(smb2.FileShareRead|smb2.FileShareWrite)
	a, s := publish(st, sh, "dir/F.txt", "", read, shareRead)
	if s != smb2.StatusSuccess || a.node == nil || len(fileOpens(st, sh, foldKey("dir/f.TXT"))) != 1 {
		t.Fatalf("first open: %v", s)
	}
	// MS-FSA 2.1.5.1.2.1, both ways: the new open's access against the
	// existing share modes, and the existing access against the new
	// open's share modes.
	if _, s := publish(st, sh, "dir/f.txt", "", write, shareRW); s != smb2.StatusSharingViolation {
		t.Fatalf("write against a read-only share mode: %v", s)
	}
	if _, s := publish(st, sh, "dir/f.txt", "", read, 0); s != smb2.StatusSharingViolation {
		t.Fatalf("an open denying the read the first open has: %v", s)
	}
	// Opens without data access take no part in share modes.
	if _, s := publish(st, sh, "dir/f.txt", "", smb2.FileReadAttributes, 0); s != smb2.StatusSuccess {
		t.Fatalf("attribute-only open: %v", s)
	}
	b, s := publish(st, sh, "dir/f.txt", "", read, shareRW)
	if s != smb2.StatusSuccess || b.node != a.node {
		t.Fatalf("compatible open: %v, same node %v", s, b.node == a.node)
	}
	if got := len(fileOpens(st, sh, foldKey("dir/f.txt"))); got != 3 {
		t.Fatalf("%d opens listed, want 3", got)
	}
	// An open stream that does not share delete keeps DELETE off the
	// file; other access to the file is not checked against it.
	if _, s := publish(st, sh, "dir/f.txt", "s1", read, shareRW); s != smb2.StatusSuccess {
		t.Fatalf("stream open: %v", s)
	}
	if _, s := publish(st, sh, "dir/f.txt", "", smb2.Delete, shareRW|smb2.FileShareDelete); s != smb2.StatusSharingViolation {
		t.Fatalf("DELETE on a file whose stream denies it: %v", s)
	}
	if !func() bool { sh.mu.Lock(); defer sh.mu.Unlock(); return st.OpenBelowLocked(sh, "DIR") }() {
		t.Fatal("opens below a directory not seen")
	}
	if st.HasFile(sh, foldKey("other")) || !st.HasFile(sh, streamKey("dir/f.txt", "S1")) {
		t.Fatal("HasFile does not follow the opens")
	}
}

func TestStateDeletePending(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	all := uint32(smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete)
	a, _ := publish(st, sh, "f", "", smb2.Delete, all)
	b, _ := publish(st, sh, "f", "", smb2.FileReadData, all)
	sh.mu.Lock()
	st.SetDeletePendingLocked(a.node, true)
	pending := st.DeletePendingLocked(sh, "F")
	sh.mu.Unlock()
	if !pending {
		t.Fatal("delete-pending not set")
	}
	// No new open of a file to delete.
	if _, s := publish(st, sh, "f", "", smb2.FileReadData, all); s != smb2.StatusDeletePending {
		t.Fatalf("open of a delete-pending file: %v", s)
	}
	sh.mu.Lock()
	st.SetDeletePendingLocked(a.node, false)
	sh.mu.Unlock()
	c, s := publish(st, sh, "f", "", smb2.FileReadData, all)
	if s != smb2.StatusSuccess {
		t.Fatalf("open after delete-pending was cleared: %v", s)
	}
	// A delete-on-close open makes the file delete-pending as it closes;
	// the file goes with the last open (MS-FSA 2.1.5.4).
	a.deleteOnClose = true
	if del, _ := closeOpen(st, a); del {
		t.Fatal("deleted while other opens remain")
	}
	if _, s := publish(st, sh, "f", "", smb2.FileReadData, all); s != smb2.StatusDeletePending {
		t.Fatalf("open after a delete-on-close open closed: %v", s)
	}
	if del, _ := closeOpen(st, b); del {
		t.Fatal("deleted while an open remains")
	}
	if del, stream := closeOpen(st, c); !del || stream != "" {
		t.Fatalf("last close of a delete-pending file: delete %v stream %q", del, stream)
	}
	if st.HasFile(sh, foldKey("f")) {
		t.Fatal("the node outlived its opens")
	}
	if _, s := publish(st, sh, "f", "", smb2.FileReadData, 0); s != smb2.StatusSuccess {
		t.Fatalf("a new file of the name: %v", s)
	}
}

func TestStateLastCloseStreams(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	all := uint32(smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete)
	f, _ := publish(st, sh, "f", "", smb2.Delete, all)
	s1, _ := publish(st, sh, "f", "s1", smb2.FileReadData, all)
	// The file's last open closes delete-on-close while a stream is open:
	// the file stays, delete-pending, until the stream closes too.
	f.deleteOnClose = true
	if del, _ := closeOpen(st, f); del {
		t.Fatal("file deleted while a stream of it is open")
	}
	sh.mu.Lock()
	pending := st.DeletePendingLocked(sh, "f")
	sh.mu.Unlock()
	if !pending {
		t.Fatal("the file is not delete-pending while its stream is open")
	}
	if del, stream := closeOpen(st, s1); !del || stream != "" {
		t.Fatalf("last stream close: delete %v stream %q, want the file", del, stream)
	}
	if st.HasFile(sh, foldKey("f")) || st.HasFile(sh, streamKey("f", "s1")) {
		t.Fatal("nodes left after the file went")
	}
	// A stream's own delete-on-close deletes the stream alone.
	s2, _ := publish(st, sh, "g", "s2", smb2.Delete, all)
	s2.deleteOnClose = true
	if del, stream := closeOpen(st, s2); !del || stream != "s2" {
		t.Fatalf("stream delete-on-close: delete %v stream %q", del, stream)
	}
}

func TestStateMoveAndReserve(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	all := uint32(smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete)
	f, _ := publish(st, sh, "a", "", smb2.Delete, all)
	s1, _ := publish(st, sh, "a", "s1", smb2.FileReadData, all)
	sh.mu.Lock()
	st.MoveLocked(sh, f.node, "b")
	sh.mu.Unlock()
	if st.HasFile(sh, foldKey("a")) || st.HasFile(sh, streamKey("a", "s1")) {
		t.Fatal("old names still have opens")
	}
	if len(fileOpens(st, sh, foldKey("b"))) != 1 || len(fileOpens(st, sh, streamKey("b", "s1"))) != 1 || s1.name != "b" {
		t.Fatal("the file and its stream did not move")
	}
	sh.mu.Lock()
	st.MoveStreamLocked(sh, s1.node, "s2")
	sh.mu.Unlock()
	if st.HasFile(sh, streamKey("b", "s1")) || !st.HasFile(sh, streamKey("b", "S2")) {
		t.Fatal("the stream did not move")
	}
	// A reserved name is not reserved again until released; a subtree
	// reservation holds the names below it.
	ctx := context.Background()
	r, err := st.ReserveNames(ctx, sh, "d", "d", "x")
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	for _, name := range []string{"X", "d/e"} {
		if _, err := st.ReserveNames(done, sh, "", name); err == nil {
			t.Fatalf("%s reserved twice", name)
		}
	}
	if r2, err := st.ReserveNames(done, sh, "", "y"); err != nil {
		t.Fatal("an unrelated name was not reserved")
	} else {
		r2.release()
	}
	r.release()
	if r3, err := st.ReserveNames(done, sh, "", "d/e", "x"); err != nil {
		t.Fatal("names not free after the release")
	} else {
		r3.release()
	}
}

func TestStateOpenQueries(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	all := uint32(smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete)
	rw := uint32(smb2.FileShareRead | smb2.FileShareWrite)
	a, _ := publish(st, sh, "f", "", smb2.FileReadData, all)
	b, _ := publish(st, sh, "f", "", smb2.FileReadAttributes, rw) // no data access
	c, _ := publish(st, sh, "f", "", smb2.FileReadData|smb2.Delete, all)
	locked := func(f func()) { sh.mu.Lock(); defer sh.mu.Unlock(); f() }
	locked(func() {
		n := st.FileLocked(sh, foldKey("F"))
		if got := st.OpensLocked(n); len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
			t.Fatalf("opens %v, want a, b, c in publishing order", got)
		}
		if st.OpenCountLocked(n) != 3 {
			t.Fatalf("%d opens counted, want 3", st.OpenCountLocked(n))
		}
		// Share modes against the opens but one: c has DELETE, which an
		// open not sharing delete conflicts with, unless c is left out.
		if !st.ShareConflictLocked(n, nil, smb2.FileReadData, rw) {
			t.Fatal("an open not sharing delete beside one with DELETE")
		}
		if st.ShareConflictLocked(n, c, smb2.FileReadData, rw) {
			t.Fatal("the open left out still counted")
		}
		// A new open without data access conflicts with nothing.
		if st.ShareConflictLocked(n, nil, smb2.FileReadAttributes, 0) {
			t.Fatal("an attribute-only open conflicted")
		}
		// A rename by c: b does not share delete, and for a rename that
		// counts though b has no data access.
		if !st.DeleteDeniedLocked(c) {
			t.Fatal("an open not sharing delete did not refuse the rename")
		}
		if st.IsDeletePendingLocked(n) {
			t.Fatal("delete-pending before it was set")
		}
		st.SetDeletePendingLocked(n, true)
		if !st.IsDeletePendingLocked(n) {
			t.Fatal("delete-pending not reported")
		}
		st.SetDeletePendingLocked(n, false)
	})
	closeOpen(st, b)
	locked(func() {
		n := st.FileLocked(sh, foldKey("f"))
		if st.DeleteDeniedLocked(c) {
			t.Fatal("opens sharing delete refused the rename")
		}
		// a has no DELETE: c not sharing delete would not matter; but c
		// has DELETE, so a rename by a without sharing delete is refused.
		a.shareAccess = rw
		denied := st.DeleteDeniedLocked(a)
		a.shareAccess = all
		if !denied {
			t.Fatal("an open with DELETE did not refuse a rename by one not sharing delete")
		}
		if st.OpenCountLocked(n) != 2 {
			t.Fatalf("%d opens after a close, want 2", st.OpenCountLocked(n))
		}
	})
	// App instances: the opens of the id made by another client.
	id, mine, theirs := [16]byte{5}, [16]byte{1}, [16]byte{2}
	x, _ := publish(st, sh, "g", "", smb2.FileReadData, all)
	y, _ := publish(st, sh, "g", "", smb2.FileReadData, all)
	z, _ := publish(st, sh, "g", "", smb2.FileReadData, all)
	x.hasAppInstance, x.appInstance, x.appClient = true, id, theirs
	y.hasAppInstance, y.appInstance, y.appClient = true, id, mine
	z.hasAppInstance, z.appInstance, z.appClient = true, [16]byte{6}, theirs
	locked(func() {
		got := st.AppInstanceOpensLocked(st.FileLocked(sh, foldKey("g")), id, mine)
		if len(got) != 1 || got[0] != x {
			t.Fatalf("app instance opens %v, want x alone", got)
		}
	})
}

func TestStateSessionOpens(t *testing.T) {
	st := newTestStore()
	s := &Session{}
	t1, t2 := &Tree{ID: 1}, &Tree{ID: 2}
	mk := func(id uint64, tree *Tree) *Open {
		o := &Open{tree: tree, id: smb2.FileID{Persistent: id, Volatile: id}}
		st.AddOpen(s, o)
		return o
	}
	a, b, c := mk(1, t1), mk(2, t1), mk(3, t2)
	if st.LookupOpen(s, a.id) != a || st.LookupOpen(s, c.id) != c {
		t.Fatal("opens not found by their file ids")
	}
	// Both halves of the file id must match.
	if st.LookupOpen(s, smb2.FileID{Persistent: 9, Volatile: 1}) != nil || st.LookupOpen(s, smb2.FileID{Persistent: 1, Volatile: 9}) != nil {
		t.Fatal("a file id the session does not have found an open")
	}
	if st.LookupOpen(&Session{}, a.id) != nil {
		t.Fatal("another session's table has the open")
	}
	if n, all := st.SessionOpenCount(s), st.SessionOpens(s); n != 3 || len(all) != 3 {
		t.Fatalf("%d opens counted, %d listed, want 3", n, len(all))
	}
	// TREE_DISCONNECT takes the tree's opens and leaves the others.
	got := st.TakeTreeOpens(s, t1)
	if len(got) != 2 || !(got[0] == a && got[1] == b || got[0] == b && got[1] == a) {
		t.Fatalf("tree opens %v, want a and b", got)
	}
	if st.LookupOpen(s, a.id) != nil || st.LookupOpen(s, c.id) != c || st.SessionOpenCount(s) != 1 {
		t.Fatal("the tree's opens stayed, or the other tree's went")
	}
	st.RemoveOpen(s, c)
	if st.LookupOpen(s, c.id) != nil || len(st.SessionOpens(s)) != 0 {
		t.Fatal("removed open still found")
	}
	// The end of the session takes every open; the table is empty after.
	d, e := mk(4, t1), mk(5, t2)
	if got := st.TakeSessionOpens(s); len(got) != 2 || !(got[0] == d && got[1] == e || got[0] == e && got[1] == d) {
		t.Fatalf("session's opens %v, want d and e", got)
	}
	if st.SessionOpenCount(s) != 0 || st.LookupOpen(s, d.id) != nil {
		t.Fatal("opens left after the session's were taken")
	}
}

func TestStateLeaseTransitions(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	rwh := uint32(leaseR | leaseH | leaseW)
	locked := func(f func()) { sh.mu.Lock(); defer sh.mu.Unlock(); f() }
	join := func(id leaseID, asked, allowed, initial uint32) (*Open, *lease, bool) {
		o := &Open{share: sh, name: "f"}
		var l *lease
		var created bool
		locked(func() {
			l, created = st.JoinLeaseLocked(o, id, asked, allowed, func() *lease {
				return &lease{id: id, sh: sh, v2: true, state: initial}
			})
		})
		return o, l, created
	}
	caching := func(o *Open) (c uint32) { locked(func() { c = st.CachingLocked(o) }); return }
	closed := func(ch chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}

	// The first open makes the lease; a second open with the key joins it.
	id := leaseID{client: [16]byte{1}, key: [16]byte{1}}
	o1, l, created := join(id, rwh, rwh, rwh)
	if !created || o1.lease != l || st.Lease(id) != l || caching(o1) != rwh {
		t.Fatal("lease not granted to the first open")
	}
	if lvl := func() (v uint8) { locked(func() { v = st.OplockLocked(o1) }); return }(); lvl != smb2.OplockLevelLease {
		t.Fatalf("a leased open answers oplock level %#x", lvl)
	}
	o2, l2, created := join(id, leaseR, rwh, leaseR)
	if created || l2 != l || caching(o2) != rwh {
		t.Fatal("the second open did not join the lease as it is (no downgrade)")
	}

	leaseState := func(l *lease) (state uint32, epoch uint16, breaking bool) {
		locked(func() { state, epoch, breaking = st.LeaseStateLocked(l) })
		return
	}
	if s, e, b := leaseState(l); s != rwh || e != 0 || b {
		t.Fatalf("new lease: state %#x epoch %d breaking %v", s, e, b)
	}
	// A break from RWH needs an acknowledgement, and is waited for; a v2
	// lease's epoch moves with it.
	var r breakStep
	locked(func() { r = st.BreakLeaseLocked(l, leaseR, false) })
	if r.send == nil || r.wait == nil || len(r.purge) != 0 {
		t.Fatalf("break of RWH: send %v wait %v", r.send != nil, r.wait != nil)
	}
	breaking := func(o *Open) (b bool) { locked(func() { b = st.BreakingLocked(o) }); return }
	if s, e, b := leaseState(l); s != rwh || e != 1 || !b {
		t.Fatalf("breaking lease: state %#x epoch %d breaking %v", s, e, b)
	}
	if !breaking(o1) || !breaking(o2) || caching(o1) != rwh {
		t.Fatal("a break in progress not seen on the lease's opens, or the state lowered before the acknowledgement")
	}
	// The acknowledgement may give up more than asked, not less.
	if _, s := st.AckLeaseBreak(id, leaseR|leaseH); s != smb2.StatusRequestNotAccepted {
		t.Fatalf("ack keeping H: %v", s)
	}
	if closed(r.wait) {
		t.Fatal("a refused acknowledgement ended the break")
	}
	if send, s := st.AckLeaseBreak(id, leaseR); s != smb2.StatusSuccess || send != nil {
		t.Fatalf("ack: %v, a further break %v", s, send != nil)
	}
	if !closed(r.wait) || caching(o1) != leaseR || caching(o2) != leaseR {
		t.Fatal("the acknowledgement did not end the break at R")
	}
	if breaking(o1) {
		t.Fatal("still breaking after the acknowledgement")
	}
	if _, s := st.AckLeaseBreak(id, leaseR); s != smb2.StatusUnsuccessful {
		t.Fatalf("ack without a break: %v", s)
	}
	if _, s := st.AckLeaseBreak(leaseID{client: [16]byte{1}, key: [16]byte{9}}, 0); s != smb2.StatusObjectNameNotFound {
		t.Fatalf("ack of an unknown lease: %v", s)
	}
	// A break from R alone takes effect at once.
	locked(func() { r = st.BreakLeaseLocked(l, 0, false) })
	if r.send == nil || r.wait != nil || caching(o1) != 0 {
		t.Fatal("break of R: not at once")
	}
	// Nothing to lower: no break.
	locked(func() { r = st.BreakLeaseLocked(l, leaseR, false) })
	if r.send != nil || r.wait != nil {
		t.Fatal("a break of a lease caching nothing")
	}

	// An upgrade: a strict superset of the state that the other opens
	// allow, and only that.
	idU := leaseID{client: [16]byte{1}, key: [16]byte{2}}
	u1, lu, _ := join(idU, leaseR, rwh, leaseR)
	join(idU, rwh, leaseR|leaseH, 0)
	if caching(u1) != leaseR {
		t.Fatal("upgraded beyond what the other opens allow")
	}
	join(idU, leaseR|leaseH, rwh, 0)
	if caching(u1) != leaseR|leaseH {
		t.Fatal("upgrade to RH not made")
	}
	if _, e, _ := leaseState(lu); e != 1 {
		t.Fatalf("epoch %d after an upgrade, want 1", e)
	}

	// A break asked for while one is in progress: the acknowledgement of
	// the first starts the next (a chained break), and the waiters of
	// the first are released when it ends. From R, it ends at once.
	var r1, r2 breakStep
	locked(func() {
		r1 = st.BreakLeaseLocked(lu, leaseR, true) // a sharing violation: H goes, waited for
		r2 = st.BreakLeaseLocked(lu, 0, false)
	})
	if r1.send == nil || r1.wait == nil || r2.send != nil || r2.wait != nil {
		t.Fatal("break during a break: wrong sends or waits")
	}
	send, s := st.AckLeaseBreak(idU, leaseR)
	if s != smb2.StatusSuccess || send == nil {
		t.Fatalf("ack with a further break due: %v, send %v", s, send != nil)
	}
	if !closed(r1.wait) || caching(u1) != 0 {
		t.Fatal("the further break from R did not end at once")
	}

	// An unacknowledged break expires: the lease caches nothing; an
	// expiry for another wait changes nothing.
	idX := leaseID{client: [16]byte{1}, key: [16]byte{3}}
	x1, lx, _ := join(idX, rwh, rwh, rwh)
	locked(func() {
		r = st.BreakLeaseLocked(lx, leaseR|leaseH, false)
		st.ExpireLeaseBreakLocked(lx, make(chan struct{}))
	})
	if closed(r.wait) || caching(x1) != rwh {
		t.Fatal("another wait's expiry ended the break")
	}
	locked(func() { st.ExpireLeaseBreakLocked(lx, r.wait) })
	if !closed(r.wait) || caching(x1) != 0 {
		t.Fatal("the expired break did not take the caching")
	}
	if _, s := st.AckLeaseBreak(idX, 0); s != smb2.StatusUnsuccessful {
		t.Fatalf("ack after the expiry: %v", s)
	}

	// The lease ends with its last open, a break in progress with it.
	locked(func() { r = st.BreakLeaseLocked(lu, 0, false) })
	var ended1, ended2 bool
	locked(func() { ended1 = st.LeaveLeaseLocked(o2); ended2 = st.LeaveLeaseLocked(o1) })
	if ended1 || !ended2 || st.Lease(id) != nil {
		t.Fatalf("leave: first ended %v, last ended %v", ended1, ended2)
	}
	if _, s := st.AckLeaseBreak(id, 0); s != smb2.StatusObjectNameNotFound {
		t.Fatalf("ack of an ended lease: %v", s)
	}
	idB := leaseID{client: [16]byte{1}, key: [16]byte{4}}
	b1, lb, _ := join(idB, rwh, rwh, rwh)
	locked(func() { r = st.BreakLeaseLocked(lb, 0, false) })
	var ended bool
	locked(func() { ended = st.LeaveLeaseLocked(b1) })
	if !ended || !closed(r.wait) {
		t.Fatal("the last close did not end the lease's break")
	}

	// Every open of the lease detached (durable, no connection): the
	// break closes them instead.
	idD := leaseID{client: [16]byte{1}, key: [16]byte{5}}
	d1, ld, _ := join(idD, rwh, rwh, rwh)
	d1.id = smb2.FileID{Persistent: 99, Volatile: 99}
	locked(func() { st.GrantDurableLocked(d1, &durableState{timeout: durableMaxTimeout}) })
	if !st.DetachDurable(d1, func() {}) {
		t.Fatal("durable open not detached")
	}
	locked(func() { r = st.BreakLeaseLocked(ld, 0, true) })
	if len(r.purge) != 1 || r.purge[0] != d1 || r.send != nil || r.wait != nil {
		t.Fatalf("break of a detached lease: purge %d, send %v", len(r.purge), r.send != nil)
	}
}

func TestStateOplockTransitions(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	locked := func(f func()) { sh.mu.Lock(); defer sh.mu.Unlock(); f() }
	var next uint64
	open := func(level uint8) *Open {
		next++
		o := &Open{share: sh, name: "f", id: smb2.FileID{Persistent: next, Volatile: next}}
		var got uint8
		locked(func() {
			st.PublishLocked(o, func(*fileNode) { st.GrantOplockLocked(o, level) })
			got = st.OplockLocked(o)
		})
		if got != level {
			t.Fatalf("oplock %d granted, %d held", level, got)
		}
		return o
	}
	caching := func(o *Open) (c uint32) { locked(func() { c = st.CachingLocked(o) }); return }
	closed := func(ch chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	var r, r2 breakStep

	// Batch to level II needs an acknowledgement; a break to none asked
	// for meanwhile waits for it, and the acknowledgement says it is due.
	o := open(smb2.OplockLevelBatch)
	locked(func() {
		r = st.BreakOplockLocked(o, leaseR)
		r2 = st.BreakOplockLocked(o, 0)
	})
	if r.send == nil || r.wait == nil || r2.send != nil || r2.wait != r.wait {
		t.Fatal("batch break: wrong sends or waits")
	}
	if b := func() (b bool) { locked(func() { b = st.BreakingLocked(o) }); return }(); !b {
		t.Fatal("the oplock's break in progress not seen")
	}
	further, s := st.AckOplockBreak(o, smb2.OplockLevelII)
	// The open is at none at once; the caller tells the client, which
	// need not acknowledge a break from level II.
	if s != smb2.StatusSuccess || !further || !closed(r.wait) || caching(o) != 0 {
		t.Fatalf("ack to level II: %v, further %v, caching %#x", s, further, caching(o))
	}
	if _, s := st.AckOplockBreak(o, smb2.OplockLevelNone); s != smb2.StatusInvalidOplockProtocol {
		t.Fatalf("ack without a break: %v", s)
	}
	// Level II to none: at once, nothing to wait for.
	o = open(smb2.OplockLevelII)
	locked(func() { r = st.BreakOplockLocked(o, 0) })
	if r.send == nil || r.wait != nil || caching(o) != 0 {
		t.Fatal("level II break not at once")
	}
	locked(func() { r = st.BreakOplockLocked(o, 0) })
	if r.send != nil || r.wait != nil {
		t.Fatal("a break of no oplock")
	}

	// An acknowledgement to more than the break allows is refused, and
	// the open loses its oplock.
	x := open(smb2.OplockLevelExclusive)
	locked(func() { r = st.BreakOplockLocked(x, leaseR) })
	if _, s := st.AckOplockBreak(x, smb2.OplockLevelExclusive); s != smb2.StatusInvalidOplockProtocol {
		t.Fatalf("ack above the break: %v", s)
	}
	if !closed(r.wait) || caching(x) != 0 {
		t.Fatalf("after a refused ack: caching %#x", caching(x))
	}

	// Unanswered, the break expires (another wait's expiry changes
	// nothing); a close ends it too.
	b := open(smb2.OplockLevelBatch)
	locked(func() {
		r = st.BreakOplockLocked(b, 0)
		st.ExpireOplockBreakLocked(b, make(chan struct{}))
	})
	if closed(r.wait) || caching(b) != leaseR|leaseW|leaseH {
		t.Fatal("another wait's expiry ended the break")
	}
	locked(func() { st.ExpireOplockBreakLocked(b, r.wait) })
	if !closed(r.wait) || caching(b) != 0 {
		t.Fatal("the expired break left the oplock")
	}
	c := open(smb2.OplockLevelBatch)
	locked(func() {
		r = st.BreakOplockLocked(c, leaseR)
		st.EndOplockLocked(c)
	})
	if !closed(r.wait) || caching(c) != 0 {
		t.Fatal("the close did not end the break")
	}

	// A detached durable open is closed instead of broken.
	d := open(smb2.OplockLevelBatch)
	locked(func() { st.GrantDurableLocked(d, &durableState{timeout: durableMaxTimeout}) })
	if !st.DetachDurable(d, func() {}) {
		t.Fatal("durable open not detached")
	}
	locked(func() { r = st.BreakOplockLocked(d, 0) })
	if len(r.purge) != 1 || r.purge[0] != d || r.send != nil || r.wait != nil {
		t.Fatal("detached open not purged")
	}
}

func TestStateAlloc(t *testing.T) {
	st := newTestStore()
	sh := storeShare(st)
	all := uint32(smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete)
	a, _ := publish(st, sh, "f", "", smb2.FileWriteData, all)
	b, _ := publish(st, sh, "f", "", smb2.FileReadData, all)
	alloc := func(o *Open) (n int64) { sh.mu.Lock(); defer sh.mu.Unlock(); return st.AllocLocked(o.node) }
	if alloc(a) != 0 {
		t.Fatal("an allocation before any was set")
	}
	sh.mu.Lock()
	st.SetAllocLocked(a.node, 1<<20)
	sh.mu.Unlock()
	// The allocation is the file's: every open of it sees it.
	if alloc(a) != 1<<20 || alloc(b) != 1<<20 {
		t.Fatalf("allocation %d / %d, want %d", alloc(a), alloc(b), 1<<20)
	}
	// It lasts while the file has opens.
	closeOpen(st, a)
	if alloc(b) != 1<<20 {
		t.Fatal("allocation lost while the file is open")
	}
	closeOpen(st, b)
	c, _ := publish(st, sh, "f", "", smb2.FileReadData, all)
	if alloc(c) != 0 {
		t.Fatal("allocation outlived the file's opens")
	}
}
