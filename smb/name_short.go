package smb

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/cifsd/cifsd/fscc"
)

// 8.3 short names (MS-FSCC 2.1.5.2.1). A name that is not a valid 8.3 name
// gets one the first time it is needed (a directory listing of the Both
// classes, FileAlternateNameInformation, a path naming it), in the shape
// Windows gives them (fscc.ShortCandidate): the first candidate no other
// name of its directory holds. The share remembers what it gave, per
// directory, so a file keeps its short name while it exists and the names
// stay unique within a directory; a path element that names no file is
// looked up among them, so opening by the short name reaches the file.
//
// Deleting or renaming a file away keeps its names for a while, as NTFS's
// name tunneling does: a file created (or renamed to) within 15 seconds
// under the old short name gets the old long name back, and one created
// under the old long name the old short name, so that a program saving by
// delete-and-recreate through the short name keeps the long name.
//
// The table lives in memory, for both backends, with the directory's index
// of names (name_index.go), which tells which short names are taken: after
// a restart, or once a directory's index was dropped to bound memory,
// names are given again in name order, which gives the same names unless
// two long names compete for one.

const (
	tunnelAge = 15 * time.Second // Windows' default MaximumTunnelEntryAgeInSeconds
	maxTunnel = 1024             // tunnel records kept per share
)

type tunnelRecord struct {
	dir, long, short string // dir as foldKey; long as it was spelled
	at               time.Time
}

// taken reports whether short names a file of d: a generated short name,
// or a name that is its own (a valid 8.3 name folds to its short name).
func (d *dirNames) taken(short string) bool {
	k := strings.ToUpper(short)
	if _, ok := d.byShort[k]; ok {
		return true
	}
	_, ok := d.names[k]
	return ok
}

// assign gives long the first free candidate, or want when it is free.
func (d *dirNames) assign(long, want string) string {
	if want != "" && !d.taken(want) {
		d.put(long, want)
		return want
	}
	for i := 0; i < fscc.ShortAttempts; i++ {
		c := fscc.ShortCandidate(long, i)
		if c == "" {
			break
		}
		if !d.taken(c) {
			d.put(long, c)
			return c
		}
	}
	return ""
}

func (d *dirNames) put(long, short string) {
	d.byLong[foldKey(long)] = short
	d.byShort[strings.ToUpper(short)] = long
}

// forgetShort forgets long's generated short name, returning it ("" when
// it had none).
func (d *dirNames) forgetShort(long string) string {
	k := foldKey(long)
	short, ok := d.byLong[k]
	if !ok {
		return ""
	}
	delete(d.byLong, k)
	if l, ok := d.byShort[strings.ToUpper(short)]; ok && strings.EqualFold(l, long) {
		delete(d.byShort, strings.ToUpper(short))
	}
	return short
}

// giveShortsLocked gives every name of d without a short name one, in name
// order (usually none: the table keeps up with cifsd's own creates and
// renames). The caller holds the index's lock.
func (x *nameIndex) giveShortsLocked(d *dirNames) {
	if d.shortsGiven {
		return
	}
	d.shortsGiven = true
	var fresh []string
	for _, n := range d.names {
		if _, ok := d.byLong[foldKey(n)]; !ok && !fscc.Is83(n) {
			fresh = append(fresh, n)
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return dirKeyLess(fresh[i], fresh[j]) })
	before := d.size()
	for _, n := range fresh {
		d.assign(n, "")
	}
	x.total += d.size() - before
}

// shortName returns the short name of the file base in dir, giving it one
// if it has none yet; base itself when it is a valid 8.3 name.
func (sh *shareState) shortName(ctx context.Context, dir, base string) string {
	if fscc.Is83(base) {
		return base
	}
	d := sh.dirIndex(ctx, dir)
	if d == nil {
		return ""
	}
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := d.names[foldKey(base)]; !ok {
		d.names[foldKey(base)] = base // seen before the index did
		x.total++
	}
	return x.shortOfLocked(d, dir, base)
}

// shortOfLocked returns the short name of name in dir's table d, giving it
// one if it has none yet. The caller holds x.mu.
func (x *nameIndex) shortOfLocked(d *dirNames, dir, name string) string {
	x.giveShortsLocked(d)
	if short, ok := d.byLong[foldKey(name)]; ok {
		return short
	}
	short := d.assign(name, "")
	if short != "" {
		x.total++
		x.evictLocked(foldKey(dir))
	}
	return short
}

// listedShort returns the short name of name, an entry of the directory
// whose table d is: "" for a name that is its own.
func (sh *shareState) listedShort(d *dirNames, dir, name string) string {
	if fscc.Is83(name) || name == "." || name == ".." {
		return ""
	}
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := d.names[foldKey(name)]; !ok {
		d.names[foldKey(name)] = name // listed before the index knew it
		x.total++
	}
	return x.shortOfLocked(d, dir, name)
}

// longName returns the name of the file of dir whose short name is short,
// and its info, or "" when there is none. Only a name that could be a
// generated one (a valid 8.3 name with a '~') is looked up.
func (sh *shareState) longName(ctx context.Context, dir, short string) (string, fs.FileInfo) {
	if !strings.Contains(short, "~") || !fscc.Is83(short) {
		return "", nil
	}
	key := strings.ToUpper(short)
	x := &sh.names
	for try := 0; try < 2; try++ {
		d := sh.dirIndex(ctx, dir)
		if d == nil {
			return "", nil
		}
		x.mu.Lock()
		x.giveShortsLocked(d)
		long := d.byShort[key]
		x.mu.Unlock()
		if long != "" {
			if fi, err := sh.cfg.FS.Stat(ctx, path.Join(dir, long)); err == nil {
				return long, fi
			}
		}
		// Not given, or the index is behind the directory: check it.
		if !sh.revalidate(ctx, dir) {
			return "", nil
		}
	}
	return "", nil
}

// tunneled returns the long name a file of dir deleted or renamed away in
// the last 15 seconds had, when name was its short name; "" otherwise.
func (sh *shareState) tunneled(dir, name string) string {
	if !strings.Contains(name, "~") || !fscc.Is83(name) {
		return ""
	}
	x := &sh.names
	x.mu.Lock()
	defer x.mu.Unlock()
	if t := x.tunneledLocked(dir, func(t *tunnelRecord) bool { return strings.EqualFold(t.short, name) }); t != nil {
		return t.long
	}
	return ""
}

// tunneledLocked returns the newest record of dir younger than tunnelAge
// that match accepts, or nil. The caller holds x.mu.
func (x *nameIndex) tunneledLocked(dir string, match func(*tunnelRecord) bool) *tunnelRecord {
	key := foldKey(dir)
	for i := len(x.tunnel) - 1; i >= 0; i-- {
		t := &x.tunnel[i]
		if time.Since(t.at) > tunnelAge {
			break
		}
		if t.dir == key && match(t) {
			return t
		}
	}
	return nil
}
