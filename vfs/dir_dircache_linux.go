package vfs

import (
	"errors"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The directories holding the names a Dir looks up, kept open. parentAt
// opened the directory of each name with an openat2 and closed it after:
// a stat open of "dir/file" cost an openat2, a statx and a close, and a
// delete (CREATE, the disposition's check, the unlink at CLOSE) three
// such opens. dirCache keeps up to dirCacheMax directories of the share
// open (O_PATH) with their identity (device and inode), and checks
// before each use, with one statx per level from the root, that every
// name on the path still names the directory kept for it:
//
//   - a directory renamed, removed or replaced, by the server or behind
//     its back, fails the check: the lookup then opens it again with
//     openat2, as before, and the stale entry is dropped (an entry's
//     inode cannot be reused meanwhile: the descriptor holds it);
//   - the check is the resolution openat2 made: each level a directory
//     (no symbolic link followed: a path through one is not cached but
//     resolved by openat2 each time, as before), under the root, on the
//     root's mount (RESOLVE_NO_XDEV: a mount below the share is never
//     held open, so it can be unmounted). A name answered from the cache
//     is so resolved at the same moment as openat2 would have resolved it
//     (just before the operation on it), and never outside the share;
//   - only directories at most dirCacheDepth levels below the root are
//     kept: the check costs a statx per level, and an openat2 of a deeper
//     path costs less than the checks of its levels;
//   - the server's own renames and removals of directories drop their
//     entries at once (forget), so no descriptor keeps a removed
//     directory's inode alive until evicted; the least recently used entry
//     goes when the cache is full. A descriptor in use by a lookup is
//     closed only once that lookup has released it.
//
// A lookup of a name one level down so costs a statx where it cost an
// openat2 and a close.

// dirCacheMax bounds the directories one Dir keeps open.
const dirCacheMax = 256

// dirCacheDepth is the deepest level below the root a kept directory may be.
const dirCacheDepth = 2

// dirCache is a Dir's open directories (nil: none kept).
type dirCache struct {
	rootFD int
	dev    uint64 // the root's device

	mu     sync.Mutex
	m      map[string]*cachedDir // by path below the root
	clock  uint64
	closed bool
}

// cachedDir is one open directory.
type cachedDir struct {
	fd   int
	ino  uint64
	refs int // the map's (while the entry is in it) and each lookup's holding fd
	used uint64
}

// newDirCache returns the cache for the root directory rootFD, or nil
// when rootFD is not open.
func newDirCache(rootFD int) *dirCache {
	if rootFD < 0 {
		return nil
	}
	var stx unix.Statx_t
	if unix.Statx(rootFD, "", unix.AT_EMPTY_PATH, unix.STATX_INO, &stx) != nil {
		return nil
	}
	return &dirCache{rootFD: rootFD, dev: unix.Mkdev(stx.Dev_major, stx.Dev_minor), m: make(map[string]*cachedDir)}
}

// heldDir is a directory a lookup holds open: its descriptor, and what
// release does with it.
type heldDir struct {
	fd  int
	own bool       // opened for this lookup alone: release closes it
	e   *cachedDir // the cache's entry holding fd (release gives it back), or nil
	c   *dirCache
}

// release ends the lookup's use of h.fd.
func (h heldDir) release() {
	switch {
	case h.own:
		unix.Close(h.fd)
	case h.e != nil:
		h.c.mu.Lock()
		h.c.unrefLocked(h.e)
		h.c.mu.Unlock()
	}
}

// unrefLocked drops one reference of e, closing its descriptor with the
// last.
func (c *dirCache) unrefLocked(e *cachedDir) {
	if e.refs--; e.refs == 0 {
		unix.Close(e.fd)
	}
}

// lookup returns the directory dir (a valid path below the root, not ".")
// open and checked as it is now, or ok false when the cache cannot answer
// (too deep, a symbolic link on the way, a level gone or not a
// directory): the caller resolves dir itself.
func (c *dirCache) lookup(dir string) (h heldDir, ok bool) {
	if c == nil {
		return heldDir{}, false
	}
	// The levels: level i is dir[:ends[i]], named dir[ends[i-1]+1:ends[i]].
	var ends [dirCacheDepth]int
	n := 0
	for i := 0; i < len(dir); i++ {
		if dir[i] == '/' {
			if n == dirCacheDepth-1 {
				return heldDir{}, false // too deep
			}
			ends[n] = i
			n++
		}
	}
	ends[n] = len(dir)
	n++

	// The entries of the levels, each held by the walk until it ends.
	var ents [dirCacheDepth]*cachedDir
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return heldDir{}, false
	}
	c.clock++
	for i := range n {
		if e := c.m[dir[:ends[i]]]; e != nil {
			e.refs++
			e.used = c.clock
			ents[i] = e
		}
	}
	c.mu.Unlock()

	parent, start := c.rootFD, 0
	for i := range n {
		key, name := dir[:ends[i]], dir[start:ends[i]]
		start = ends[i] + 1
		if e := ents[i]; e != nil {
			var stx unix.Statx_t
			err := statxRetry(parent, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE|unix.STATX_INO, &stx)
			if err == nil && stx.Mode&unix.S_IFMT == unix.S_IFDIR && stx.Ino == e.ino &&
				unix.Mkdev(stx.Dev_major, stx.Dev_minor) == c.dev {
				parent = e.fd
				continue
			}
			// Stale: the name is another file now, or none.
			c.mu.Lock()
			if c.m[key] == e {
				delete(c.m, key)
				c.unrefLocked(e)
			}
			c.unrefLocked(e) // the walk's
			ents[i] = nil
			c.mu.Unlock()
			if err != nil {
				c.releaseAll(ents[:n])
				return heldDir{}, false
			}
		}
		e, err := c.open(parent, name)
		if err != nil {
			c.releaseAll(ents[:n])
			return heldDir{}, false
		}
		c.mu.Lock()
		c.putLocked(key, e)
		c.mu.Unlock()
		ents[i] = e // the walk's hold: the one open gave
		parent = e.fd
	}
	c.releaseAll(ents[:n-1])
	return heldDir{fd: parent, e: ents[n-1], c: c}, true
}

// releaseAll ends the holds of a walk on ents (nil: none).
func (c *dirCache) releaseAll(ents []*cachedDir) {
	c.mu.Lock()
	for _, e := range ents {
		if e != nil {
			c.unrefLocked(e)
		}
	}
	c.mu.Unlock()
}

// open opens the directory name (one path level) under the open
// directory parent as a new entry, held once by the caller: not through
// a symbolic link, not into another mount.
func (c *dirCache) open(parent int, name string) (*cachedDir, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := openat2Retry(parent, name, &how)
	if err != nil {
		return nil, err
	}
	// Its identity from the descriptor itself: a statx by name could
	// describe another directory renamed there since the open.
	var stx unix.Statx_t
	if err := statxRetry(fd, "", unix.AT_EMPTY_PATH, unix.STATX_TYPE|unix.STATX_INO, &stx); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if unix.Mkdev(stx.Dev_major, stx.Dev_minor) != c.dev {
		unix.Close(fd)
		return nil, unix.EXDEV
	}
	return &cachedDir{fd: fd, ino: stx.Ino, refs: 1}, nil
}

// openat2Retry is openat2(2), again (up to 3 tries in all) after an
// EAGAIN (a rename raced the resolution) or an EINTR.
func openat2Retry(dirfd int, name string, how *unix.OpenHow) (fd int, err error) {
	for range 3 {
		fd, err = unix.Openat2(dirfd, name, how)
		if !errors.Is(err, unix.EAGAIN) && !errors.Is(err, unix.EINTR) {
			break
		}
	}
	return fd, err
}

// statxRetry is statx(2), again after an EINTR.
func statxRetry(dirfd int, name string, flags, mask int, stx *unix.Statx_t) error {
	for {
		err := unix.Statx(dirfd, name, flags, mask, stx)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// putLocked enters e as the directory at key, held by the map too; it
// replaces the entry there, and the least recently used one goes when
// the cache is full.
func (c *dirCache) putLocked(key string, e *cachedDir) {
	if c.closed {
		return
	}
	if old := c.m[key]; old != nil {
		delete(c.m, key)
		c.unrefLocked(old)
	}
	if len(c.m) >= dirCacheMax {
		var lk string
		var lru *cachedDir
		for k, o := range c.m {
			if lru == nil || o.used < lru.used {
				lk, lru = k, o
			}
		}
		delete(c.m, lk)
		c.unrefLocked(lru)
	}
	e.refs++
	c.clock++
	e.used = c.clock
	c.m[key] = e
}

// forget drops the entries of the directory name and of those below it:
// the server renamed or removed it.
func (c *dirCache) forget(name string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	for k, e := range c.m {
		if k == name || strings.HasPrefix(k, name) && len(k) > len(name) && k[len(name)] == '/' {
			delete(c.m, k)
			c.unrefLocked(e)
		}
	}
	c.mu.Unlock()
}

// close drops every entry; descriptors in use close when released.
func (c *dirCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.closed = true
	for k, e := range c.m {
		delete(c.m, k)
		c.unrefLocked(e)
	}
	c.mu.Unlock()
}
