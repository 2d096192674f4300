package smb

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/vfs"
)

// The name index: per directory, every name it holds by its case-folded
// form, and the 8.3 names given (name_short.go). A CREATE of a name not
// found as spelled looks it up here, not in a listing, so creating the
// 100,001st file of a directory costs what creating the first did.
//
// A directory's index is built from one listing (vfs.ReadDirNames) the
// first time it is needed and kept up with the changes made through the
// server (nameAdded, nameRemoved: creates, renames, deletes, hard links).
// Changes made behind the server's back are caught on a miss: a name not
// found in the index is looked for only after a Stat of the directory
// shows its times as the index last saw them (the stamp, taken again
// after each change the server makes); otherwise the directory is listed
// again. A change made outside in the same timestamp tick as one of the
// server's own may go unseen until the directory changes again.
//
// A backend whose names are already case-insensitive (vfs.CaseInsensitiver)
// needs no index for lookups: the backend answers them.

// maxIndexNames bounds the names (and short names) a share's index holds;
// past it the least recently used directories are forgotten, and listed
// again when next needed.
const maxIndexNames = 1 << 20

// nameIndex is a share's index of directories.
type nameIndex struct {
	mu     sync.Mutex
	dirs   map[string]*dirNames // by foldKey of the directory
	total  int                  // entries in all dirs
	clock  uint64
	tunnel []tunnelRecord // oldest first (name_short.go)
	// changing counts, per directory (by foldKey), the changes to its
	// names the server has under way: from before the backend call to
	// after the restamp that follows it (dirChanging).
	changing map[string]int
}

// dirNames is one directory's names.
type dirNames struct {
	names       map[string]string // foldKey(name) -> name as the backend spells it
	byLong      map[string]string // foldKey(long) -> generated short name
	byShort     map[string]string // short (upper case) -> long as the backend spells it
	shortsGiven bool              // every name without a short name was given one
	stamp       dirStamp
	used        uint64
}

func (d *dirNames) size() int { return len(d.names) + len(d.byLong) }

// dirStamp is what a Stat of a directory says of its contents: a name
// added, removed or renamed changes its modification and change times.
type dirStamp struct {
	mod, change time.Time
	size        int64
}

func stampOf(fi fs.FileInfo) dirStamp {
	t := vfs.TimesOf(fi)
	return dirStamp{mod: t.Modify, change: t.Change, size: fi.Size()}
}

// statStamp is the Stat of dir a stamp is taken from: the file system's
// stat alone (vfs.StatBasic), as every stamp of the index is, so that
// they compare.
func (sh *shareState) statStamp(ctx context.Context, dir string) (fs.FileInfo, error) {
	return vfs.StatBasic(ctx, sh.cfg.FS, dir)
}

func (a dirStamp) equal(b dirStamp) bool {
	return a.mod.Equal(b.mod) && a.change.Equal(b.change) && a.size == b.size
}

// dirIndex returns dir's index, building it from a listing when there is
// none; nil when dir cannot be listed.
func (sh *shareState) dirIndex(ctx context.Context, dir string) *dirNames {
	x := &sh.names
	x.mu.Lock()
	d := x.dirs[foldKey(dir)]
	if d != nil {
		x.clock++
		d.used = x.clock
	}
	x.mu.Unlock()
	if d != nil {
		return d
	}
	return sh.buildIndex(ctx, dir)
}

// buildIndex lists dir into a fresh index, keeping the short names its
// old one gave names still present.
func (sh *shareState) buildIndex(ctx context.Context, dir string) *dirNames {
	fi, err := sh.statStamp(ctx, dir)
	if err != nil || !fi.IsDir() {
		return nil
	}
	stamp := stampOf(fi)
	list, err := vfs.ReadDirNames(ctx, sh.cfg.FS, dir)
	if err != nil {
		return nil
	}
	d := &dirNames{names: make(map[string]string, len(list)), byLong: map[string]string{}, byShort: map[string]string{}, stamp: stamp}
	for _, n := range list {
		d.names[foldKey(n)] = n
	}
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	key := foldKey(dir)
	if old := x.dirs[key]; old != nil {
		for k, short := range old.byLong {
			if long, ok := d.names[k]; ok && !d.taken(short) {
				d.put(long, short)
			}
		}
		x.total -= old.size()
	}
	if x.dirs == nil {
		x.dirs = make(map[string]*dirNames)
	}
	x.clock++
	d.used = x.clock
	x.dirs[key] = d
	x.total += d.size()
	x.evictLocked(key)
	return d
}

// revalidate checks dir's index against the directory's times and lists
// it again when they changed; it reports whether it did.
func (sh *shareState) revalidate(ctx context.Context, dir string) bool {
	fi, err := sh.statStamp(ctx, dir)
	if err != nil {
		sh.dropIndex(dir)
		return false
	}
	x := &sh.names
	x.mu.Lock()
	d := x.dirs[foldKey(dir)]
	same := d != nil && d.stamp.equal(stampOf(fi))
	// A change of the server's own under way has moved the directory's
	// times but not yet its stamp: it is not one made behind the server's
	// back, and listing again for it would make every CREATE among
	// concurrent ones list the directory. The index is trusted until the
	// server's changes are done; one made outside meanwhile is seen on the
	// next miss after them.
	same = same || d != nil && x.changing[foldKey(dir)] > 0
	x.mu.Unlock()
	if same {
		return false
	}
	return sh.buildIndex(ctx, dir) != nil
}

// dirChanging marks a change the server is about to make to the names of
// dirs (a create, rename, link or delete); done, called once the change
// is in the index (nameAdded, nameRemoved) or has failed, ends the mark.
func (sh *shareState) dirChanging(dirs ...string) (done func()) {
	x := &sh.names
	keys := make([]string, len(dirs))
	x.mu.Lock()
	if x.changing == nil {
		x.changing = make(map[string]int)
	}
	for i, d := range dirs {
		keys[i] = foldKey(d)
		x.changing[keys[i]]++
	}
	x.mu.Unlock()
	return func() {
		x.mu.Lock()
		for _, k := range keys {
			if x.changing[k]--; x.changing[k] <= 0 {
				delete(x.changing, k)
			}
		}
		x.mu.Unlock()
	}
}

// dropIndex forgets the index of dir and of the directories below it.
func (sh *shareState) dropIndex(dir string) {
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropLocked(dir)
}

func (x *nameIndex) dropLocked(dir string) {
	key := foldKey(dir)
	prefix := key + "/"
	if key == "." {
		prefix = ""
	}
	for k, d := range x.dirs {
		if k == key || strings.HasPrefix(k, prefix) {
			x.total -= d.size()
			delete(x.dirs, k)
		}
	}
}

// evictLocked forgets the least recently used directories but keep while
// the share's index holds too many names.
func (x *nameIndex) evictLocked(keep string) {
	for x.total > maxIndexNames && len(x.dirs) > 1 {
		var oldest string
		var at uint64
		for k, d := range x.dirs {
			if k != keep && (oldest == "" || d.used < at) {
				oldest, at = k, d.used
			}
		}
		if oldest == "" {
			return
		}
		x.total -= x.dirs[oldest].size()
		delete(x.dirs, oldest)
	}
}

// lookupFold finds name in dir ignoring case, through dir's index: the
// name as the backend spells it and its info, or "" when dir holds no such
// name.
func (sh *shareState) lookupFold(ctx context.Context, dir, name string) (string, fs.FileInfo) {
	key := foldKey(name)
	for try := 0; try < 2; try++ {
		d := sh.dirIndex(ctx, dir)
		if d == nil {
			return "", nil
		}
		sh.names.mu.Lock()
		found := d.names[key]
		sh.names.mu.Unlock()
		if found != "" {
			if fi, err := sh.cfg.FS.Stat(ctx, path.Join(dir, found)); err == nil {
				return found, fi
			}
		}
		// A miss, or a name gone behind our back: trust it only if the
		// directory has not changed since the index last saw it.
		if !sh.revalidate(ctx, dir) {
			return "", nil
		}
	}
	return "", nil
}

// restamp takes dir's stamp again after a change the server made to
// it, so that the change is not taken for one made behind its back.
func (sh *shareState) restamp(dir string) {
	fi, err := sh.statStamp(context.Background(), dir)
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	d := x.dirs[foldKey(dir)]
	if d == nil {
		return
	}
	if err != nil {
		x.dropLocked(dir)
		return
	}
	d.stamp = stampOf(fi)
}

// nameRemoved is told that name (a file or directory) no longer exists
// under that name: it leaves its directory's index, and its short name is
// freed and kept for tunneling.
func (sh *shareState) nameRemoved(name string, isDir bool) {
	dir, base := splitParent(name)
	if sh.removeName(dir, base, isDir) {
		sh.restamp(dir)
	}
}

func (sh *shareState) removeName(dir, base string, isDir bool) (indexed bool) {
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	if isDir {
		x.dropLocked(path.Join(dir, base)) // its own index and those below it
	}
	d := x.dirs[foldKey(dir)]
	if d == nil {
		return false
	}
	if _, ok := d.names[foldKey(base)]; ok {
		delete(d.names, foldKey(base))
		x.total--
	}
	short := d.forgetShort(base)
	if short == "" {
		return true
	}
	x.total--
	now := time.Now()
	for len(x.tunnel) > 0 && (len(x.tunnel) >= maxTunnel || now.Sub(x.tunnel[0].at) > tunnelAge) {
		x.tunnel = x.tunnel[1:]
	}
	x.tunnel = append(x.tunnel, tunnelRecord{dir: foldKey(dir), long: base, short: short, at: now})
	return true
}

// nameAdded is told that name now exists (created, renamed to, linked):
// it joins its directory's index; a name that is not a valid 8.3 name gets
// the short name tunneled for it when there is one.
func (sh *shareState) nameAdded(name string) {
	dir, base := splitParent(name)
	if sh.addName(dir, base) {
		sh.restamp(dir)
	}
}

func (sh *shareState) addName(dir, base string) (indexed bool) {
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	d := x.dirs[foldKey(dir)]
	if d == nil {
		return false
	}
	if _, ok := d.names[foldKey(base)]; !ok {
		x.total++
	}
	d.names[foldKey(base)] = base
	if fscc.Is83(base) {
		return true
	}
	if _, ok := d.byLong[foldKey(base)]; ok {
		return true
	}
	t := x.tunneledLocked(dir, func(t *tunnelRecord) bool { return strings.EqualFold(t.long, base) })
	if t == nil {
		return true // given one when first needed
	}
	if d.assign(base, t.short) != "" {
		x.total++
	}
	return true
}
