package vfs

import (
	"sync"
	"time"
	"unique"

	"golang.org/x/sys/unix"
)

// What Dir keeps in a file's xattrs (its stored Attrs, EAs and security
// descriptor) is read with the file's stat: a listing of 10,000 files
// would otherwise cost a listxattr and a getxattr per entry besides its
// statx, and each CREATE as many. xattrCache remembers what those reads
// found, by inode, together with the inode's change time (ctime) when
// they were made. Every change of an xattr sets the inode's ctime to the
// current time (setxattr(2), removexattr(2); a rename or a new file at
// the same name is another inode), so an entry holds while the statx
// that a listing or a stat makes anyway still shows that ctime:
//
//   - an entry is made only for an inode whose ctime is older than
//     xattrCacheSettle at the time of the reads: the file system stamps
//     ctime from a clock that may lag a tick, so a change right after the
//     reads could otherwise carry the same ctime as the one before them;
//     with the margin, any later change has a later ctime;
//   - only on file systems whose ctime is set by the kernel on every
//     xattr change (tmpfs, ext4, xfs, btrfs: checked once, on the share's
//     root), and only for inodes on the root's device (not a mount below
//     it, which may be anything);
//   - bounded: at most xattrCacheMax inodes in the process (one cache,
//     whatever the number of shares), half a shard's dropped when it is
//     full; an EA list larger than xattrCacheEAs bytes is not kept
//     (read again).
//
// A miss costs what the reads cost without the cache.

// xattrCacheMax bounds the inodes xattrCache describes.
const xattrCacheMax = 1 << 15

// xattrCacheEAs bounds the EA bytes (names and values) one entry keeps.
const xattrCacheEAs = 512

// xattrCacheSettle is how old a ctime must be for its reads to be kept
// (a variable for tests).
var xattrCacheSettle = time.Second

// File system magic numbers (statfs(2) f_type) of the file systems whose
// xattr changes set ctime in the kernel.
var xattrCacheFS = map[int64]bool{
	unix.TMPFS_MAGIC:       true,
	unix.EXT4_SUPER_MAGIC:  true,
	unix.XFS_SUPER_MAGIC:   true,
	unix.BTRFS_SUPER_MAGIC: true,
}

type inodeKey struct{ dev, ino uint64 }

// xattrEntry is what the xattr reads of one inode found.
type xattrEntry struct {
	ctimeSec  int64
	ctimeNsec uint32
	has       bool // stored Attrs found (in stored)
	easOK     bool // eas is the file's EA list (read with listxattr)
	sdOK      bool // sd is the stored descriptor (read, or not listed)
	sdSet     bool // a descriptor is stored (listed)
	stored    storedAttrs
	eas       []EA
	sd        unique.Handle[string] // valid when sdOK && sdSet
}

// xattrCacheShards spreads the cache over locks: a listing looks up each
// of its entries, from as many connections as list at once.
const xattrCacheShards = 16

// xattrCache is a Dir's view of the process's cache of xattr reads
// (nil: off). The entries are shared by every Dir (an inode's xattrs are
// the same through any of them), so the bound is the process's.
type xattrCache struct {
	dev uint64 // the share root's device: other devices are not cached
	s   *xattrStore
}

// xattrStore holds the entries, spread over locks by inode.
type xattrStore struct {
	shards [xattrCacheShards]xattrShard
}

// xattrs is the process's xattrStore.
var xattrs = func() *xattrStore {
	s := new(xattrStore)
	for i := range s.shards {
		s.shards[i].m = make(map[inodeKey]*xattrEntry)
	}
	return s
}()

type xattrShard struct {
	mu sync.Mutex
	m  map[inodeKey]*xattrEntry
}

func (c *xattrCache) shard(ino uint64) *xattrShard { return &c.s.shards[ino%xattrCacheShards] }

// newXattrCache returns the cache for the root directory rootFD, or nil
// when its file system is not one xattrCacheFS names.
func newXattrCache(rootFD int) *xattrCache {
	if rootFD < 0 {
		return nil
	}
	var sfs unix.Statfs_t
	if unix.Fstatfs(rootFD, &sfs) != nil || !xattrCacheFS[int64(sfs.Type)] {
		return nil
	}
	var stx unix.Statx_t
	if unix.Statx(rootFD, "", unix.AT_EMPTY_PATH, unix.STATX_INO, &stx) != nil {
		return nil
	}
	return &xattrCache{dev: unix.Mkdev(stx.Dev_major, stx.Dev_minor), s: xattrs}
}

// get returns the entry of the inode stx describes while its ctime is the
// one recorded, else nil.
func (c *xattrCache) get(stx *unix.Statx_t) *xattrEntry {
	if c == nil || stx.Mask&unix.STATX_CTIME == 0 {
		return nil
	}
	k := inodeKey{unix.Mkdev(stx.Dev_major, stx.Dev_minor), stx.Ino}
	if k.dev != c.dev {
		return nil
	}
	sh := c.shard(k.ino)
	sh.mu.Lock()
	e := sh.m[k]
	sh.mu.Unlock()
	if e == nil || e.ctimeSec != stx.Ctime.Sec || e.ctimeNsec != stx.Ctime.Nsec {
		return nil
	}
	return e
}

// settled reports whether reads made from start on may be kept for the
// inode stx describes (see xattrCacheSettle).
func (c *xattrCache) settled(stx *unix.Statx_t, start time.Time) bool {
	if c == nil || stx.Mask&unix.STATX_CTIME == 0 ||
		unix.Mkdev(stx.Dev_major, stx.Dev_minor) != c.dev {
		return false
	}
	ct := time.Unix(stx.Ctime.Sec, int64(stx.Ctime.Nsec))
	return ct.Before(start.Add(-xattrCacheSettle))
}

// put records e for the inode stx describes; the caller checked settled
// before its reads. e is not changed afterwards (entries are replaced,
// not updated). What the entry it replaces knew and e does not (the EAs a
// listing read, the descriptor a Stat read) is kept when both describe
// the same ctime.
func (c *xattrCache) put(stx *unix.Statx_t, e *xattrEntry) {
	e.ctimeSec, e.ctimeNsec = stx.Ctime.Sec, stx.Ctime.Nsec
	k := inodeKey{unix.Mkdev(stx.Dev_major, stx.Dev_minor), stx.Ino}
	sh := c.shard(k.ino)
	sh.mu.Lock()
	if old := sh.m[k]; old != nil && old.ctimeSec == e.ctimeSec && old.ctimeNsec == e.ctimeNsec {
		if !e.easOK && old.easOK {
			e.eas, e.easOK = old.eas, true
		}
		if !e.sdOK && old.sdOK {
			e.sd, e.sdSet, e.sdOK = old.sd, old.sdSet, true
		}
	}
	if len(sh.m) >= xattrCacheMax/xattrCacheShards {
		n := 0
		for key := range sh.m { // map order: an arbitrary half
			delete(sh.m, key)
			if n++; n >= xattrCacheMax/xattrCacheShards/2 {
				break
			}
		}
	}
	sh.m[k] = e
	sh.mu.Unlock()
}

// load fills l from e: the stored Attrs, the EAs when e knows them.
func (e *xattrEntry) load(l *dirLoaded) {
	l.stored, l.has = e.stored, e.has
	if e.easOK {
		l.eas, l.easOK = e.eas, true
	}
	if e.sdOK {
		l.sdOK = true
		if e.sdSet {
			l.sd = []byte(e.sd.Value())
		}
	}
}

// entryOf is the entry that records l, or nil when l's EAs are too large
// to keep.
func entryOf(l *dirLoaded) *xattrEntry {
	e := &xattrEntry{has: l.has, stored: l.stored, easOK: l.easOK, sdOK: l.sdOK, sdSet: l.sd != nil}
	if l.easOK && len(l.eas) > 0 {
		n := 0
		for _, ea := range l.eas {
			n += len(ea.Name) + len(ea.Value)
		}
		if n > xattrCacheEAs {
			return nil
		}
		e.eas = l.eas[:len(l.eas):len(l.eas)] // shared: an append copies
	}
	if e.sdSet {
		e.sd = unique.Make(string(l.sd))
	}
	return e
}
