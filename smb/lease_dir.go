package smb

import (
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
)

// Directory leases (MS-SMB2 3.3.1.4, 3.3.5.9.11; MS-FSA 2.1.4.12 with
// PARENT_OBJECT).
//
// A directory lease lets an SMB 3.x client cache the directory's listing
// (R) and keep its handle open (H); never W. Besides what breaks any lease
// (an open that conflicts, a delete or rename of the directory itself:
// lease.go), a change to the directory's contents breaks the directory's
// leases to none, without waiting for the acknowledgement (MS-SMB2 3.3.1.4:
// READ caching on a directory is revoked when a file or directory is added
// to it, removed from it or renamed in or out, and the object store need
// not wait). cifsd breaks them for every change a listing shows:
//
//   - a child created, overwritten or superseded (CREATE);
//   - a child removed (the close that deletes a delete-pending file);
//   - a child renamed: the source's and the destination's directories;
//   - a child's attributes, times, size or EAs set (SET_INFO basic,
//     end-of-file, allocation, EA information; FSCTL_SET_SPARSE);
//   - a child whose data was written, when that open closes (the last-write
//     time and size a listing shows are final then, as on Windows:
//     smbtorture smb2.lease.v2_request breaks only at the close).
//
// The operation's open is compared with each lease by the ParentLeaseKey of
// the CREATE that made it (MS-FSA 2.1.4.12.2 with PARENT_OBJECT): a client
// that names the directory's lease as the parent of the file it changes
// keeps its own directory cache up to date and is not told; everyone else
// is, the same client under another key too.

// leaseOwner is the ParentLeaseKey an open was created with (MS-FSA
// Open.ParentOplockKey), with the client it belongs to.
type leaseOwner struct {
	client, parent [16]byte
	ok             bool
}

// parentOwner is the parent key of a CREATE's lease context (MS-SMB2
// 2.2.13.2.10: only with SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET).
func parentOwner(lr *leaseRequest) leaseOwner {
	if lr == nil || !lr.V2 || lr.Flags&smb2.LeaseFlagParentLeaseKeySet == 0 {
		return leaseOwner{}
	}
	return leaseOwner{client: lr.id.client, parent: lr.ParentLeaseKey, ok: true}
}

// covers reports whether the directory lease l belongs to the client that
// makes the change and is the parent it named.
func (w leaseOwner) covers(l *lease) bool {
	return w.ok && l.id.client == w.client && l.id.key == w.parent
}

// grantsDirLease reports whether a CREATE of a directory asking for lease
// lr gets one: a version 2 lease context on a connection that negotiated
// directory leasing (SMB 3.x, the client offering it, the server not
// turning it off).
func grantsDirLease(req *Request, lr *leaseRequest) bool {
	return lr.V2 && req.conn.neg.serverCaps&smb2.GlobalCapDirectoryLeasing != 0
}

// parentBreaksLocked breaks the leases of the directory holding name, but
// those the change's owner covers, to none. A break from RH needs an
// acknowledgement, but nothing waits for it. The caller holds sh.mu.
func (sh *shareState) parentBreaksLocked(name string, by leaseOwner, b *breaks) {
	if name == "." || name == "" || sh.dirLeases.Load() == 0 {
		return
	}
	dir, _ := splitParent(name)
	n := sh.store.FileLocked(sh, foldKey(dir))
	if n == nil {
		return
	}
	for _, x := range sh.store.OpensLocked(n) {
		l := x.lease
		if l == nil || !l.dir || by.covers(l) {
			continue
		}
		if sh.store.CachingLocked(x) == 0 && !sh.store.BreakingLocked(x) {
			continue
		}
		b.lower(x, 0, false)
	}
	b.waits = nil // nothing waits (MS-SMB2 3.3.1.4)
}

// sendLocked makes b's notifications ready to go without the share lock:
// the caller holds sh.mu and runs what it returns after releasing it.
func (b *breaks) sendLocked() func() {
	if b.empty() {
		return func() {}
	}
	purged := b.purgeLocked()
	sends := b.sends
	b.sends, b.waits = nil, nil
	return func() {
		for _, f := range purged {
			f()
		}
		for _, f := range sends {
			f()
		}
	}
}

// breakParentLeases breaks the directory leases of the directories holding
// names for a change made by by. The caller holds no locks.
func (sh *shareState) breakParentLeases(by leaseOwner, names ...string) {
	if sh == nil || sh.dirLeases.Load() == 0 {
		return
	}
	var b breaks
	sh.mu.Lock()
	for _, name := range names {
		sh.parentBreaksLocked(name, by, &b)
	}
	send := b.sendLocked()
	sh.mu.Unlock()
	send()
}

// noteDirChange breaks the leases of o's directory after a SET_INFO of
// class changed what a listing of it shows (MS-FSCC 2.4: attributes,
// times, sizes, EA size).
func (o *Open) noteDirChange(infoType, class uint8) {
	if infoType != smb2.InfoFile || o.node == nil || o.share.dirLeases.Load() == 0 {
		return
	}
	switch class {
	case fscc.FileBasicInformation, fscc.FileEndOfFileInformation, fscc.FileAllocationInformation, fscc.FileFullEaInformation:
	default:
		return
	}
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	o.share.breakParentLeases(o.dirOwner, name)
}
