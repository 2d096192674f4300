package smb

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/vfs"
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
// The table lives in memory, for both backends: after a restart, or once
// a directory's table was dropped to bound memory, names are given again
// in name order, which gives the same names unless two long names compete
// for one.

const (
	tunnelAge = 15 * time.Second // Windows' default MaximumTunnelEntryAgeInSeconds
	maxTunnel = 1024             // tunnel records kept per share

	// maxShortNames bounds the short names a share remembers; past it the
	// least recently used directories are forgotten.
	maxShortNames = 1 << 18
)

type shortNames struct {
	mu     sync.Mutex
	dirs   map[string]*dirShorts // by foldKey of the directory
	total  int                   // entries in all dirs
	clock  uint64
	tunnel []tunnelRecord // oldest first
}

// dirShorts is one directory's names.
type dirShorts struct {
	byLong  map[string]string // foldKey(long) -> short
	byShort map[string]string // short (upper case) -> long as the backend spells it
	plain   map[string]bool   // foldKey of the names that are their own short name
	used    uint64
}

type tunnelRecord struct {
	dir, long, short string // dir as foldKey; long as it was spelled
	at               time.Time
}

func (d *dirShorts) size() int { return len(d.byLong) + len(d.plain) }

// taken reports whether short names a file of d.
func (d *dirShorts) taken(short string) bool {
	k := strings.ToUpper(short)
	_, ok := d.byShort[k]
	return ok || d.plain[k]
}

// assign gives long the first free candidate, or want when it is free.
func (d *dirShorts) assign(long, want string) string {
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

func (d *dirShorts) put(long, short string) {
	d.byLong[foldKey(long)] = short
	d.byShort[strings.ToUpper(short)] = long
}

// remove forgets long; found reports whether it was known.
func (d *dirShorts) remove(long string) (short string, found bool) {
	k := foldKey(long)
	if d.plain[k] {
		delete(d.plain, k)
		return "", true
	}
	short, ok := d.byLong[k]
	if !ok {
		return "", false
	}
	delete(d.byLong, k)
	if l, ok := d.byShort[strings.ToUpper(short)]; ok && strings.EqualFold(l, long) {
		delete(d.byShort, strings.ToUpper(short))
	}
	return short, true
}

// dirLocked returns dir's table, building it from names (a listing of the
// directory) when there is none yet; nil when there is none and names is
// nil. With sync, a table that exists is brought in line with names:
// names gone are forgotten, new ones given short names in name order.
func (s *shortNames) dirLocked(dir string, names []string, sync bool) *dirShorts {
	key := foldKey(dir)
	d := s.dirs[key]
	if d == nil {
		if names == nil {
			return nil
		}
		if s.dirs == nil {
			s.dirs = make(map[string]*dirShorts)
		}
		d = &dirShorts{byLong: map[string]string{}, byShort: map[string]string{}, plain: map[string]bool{}}
		s.dirs[key] = d
		sync = true
	}
	s.clock++
	d.used = s.clock
	if sync && names != nil {
		before := d.size()
		present := make(map[string]bool, len(names))
		for _, n := range names {
			present[foldKey(n)] = true
		}
		for k := range d.plain {
			if !present[k] {
				delete(d.plain, k)
			}
		}
		for k, short := range d.byLong {
			if !present[k] {
				delete(d.byLong, k)
				delete(d.byShort, strings.ToUpper(short))
			}
		}
		// The names that are their own short names first: a generated
		// name must not take one of them.
		for _, n := range names {
			if fscc.Is83(n) {
				d.plain[foldKey(n)] = true
			}
		}
		// The names without one get theirs in name order (usually none:
		// the table keeps up with cifsd's own creates and renames).
		var fresh []string
		for _, n := range names {
			if _, ok := d.byLong[foldKey(n)]; !ok && !fscc.Is83(n) {
				fresh = append(fresh, n)
			}
		}
		sort.Slice(fresh, func(i, j int) bool { return dirKeyLess(fresh[i], fresh[j]) })
		for _, n := range fresh {
			d.assign(n, "")
		}
		s.total += d.size() - before
		s.evictLocked(key)
	}
	return d
}

// evictLocked forgets the least recently used directories but keep while
// the share remembers too many names.
func (s *shortNames) evictLocked(keep string) {
	for s.total > maxShortNames && len(s.dirs) > 1 {
		var oldest string
		var at uint64
		for k, d := range s.dirs {
			if k != keep && (oldest == "" || d.used < at) {
				oldest, at = k, d.used
			}
		}
		if oldest == "" {
			return
		}
		s.total -= s.dirs[oldest].size()
		delete(s.dirs, oldest)
	}
}

// listNames lists dir's names; nil when it cannot be read.
func (sh *shareState) listNames(ctx context.Context, dir string) []string {
	names, err := vfs.ReadDirNames(ctx, sh.cfg.FS, dir)
	if err != nil {
		return nil
	}
	if names == nil {
		names = []string{} // empty, not unreadable
	}
	return names
}

// shortName returns the short name of the file base in dir, giving it one
// if it has none yet; base itself when it is a valid 8.3 name.
func (sh *shareState) shortName(ctx context.Context, dir, base string) string {
	if fscc.Is83(base) {
		return base
	}
	s := &sh.shorts
	s.mu.Lock()
	d := s.dirLocked(dir, nil, false)
	if d != nil {
		if short, ok := d.byLong[foldKey(base)]; ok {
			s.mu.Unlock()
			return short
		}
	}
	s.mu.Unlock()
	names := sh.listNames(ctx, dir)
	if names == nil {
		names = []string{base}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shortOfLocked(s.dirLocked(dir, names, false), dir, base)
}

// shortOfLocked returns the short name of name in dir's table d, giving it
// one if it has none yet. The caller holds s.mu.
func (s *shortNames) shortOfLocked(d *dirShorts, dir, name string) string {
	if short, ok := d.byLong[foldKey(name)]; ok {
		return short
	}
	short := d.assign(name, "")
	if short != "" {
		s.total++
		s.evictLocked(foldKey(dir))
	}
	return short
}

// shortTable returns dir's table for a listing of it (names), building it
// when there is none; with sync (the start of an enumeration) a table that
// exists is brought in line with the listing first.
func (sh *shareState) shortTable(dir string, names []string, sync bool) *dirShorts {
	s := &sh.shorts
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dirLocked(dir, names, sync)
}

// listedShort returns the short name of name, an entry of the directory
// whose table d is: "" for a name that is its own.
func (sh *shareState) listedShort(d *dirShorts, dir, name string) string {
	if fscc.Is83(name) || name == "." || name == ".." {
		return ""
	}
	s := &sh.shorts
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shortOfLocked(d, dir, name)
}

// longName returns the name of the file of dir whose short name is short,
// and its info, or "" when there is none. Only a name that could be a
// generated one (a valid 8.3 name with a '~') is looked up.
func (sh *shareState) longName(ctx context.Context, dir, short string) (string, fs.FileInfo) {
	if !strings.Contains(short, "~") || !fscc.Is83(short) {
		return "", nil
	}
	s := &sh.shorts
	key := strings.ToUpper(short)
	s.mu.Lock()
	var long string
	d := s.dirLocked(dir, nil, false)
	if d != nil {
		long = d.byShort[key]
	}
	s.mu.Unlock()
	if long == "" {
		// Not given, or the table is behind the directory: bring it in
		// line (names with a '~' that name nothing are rare).
		names := sh.listNames(ctx, dir)
		if names == nil {
			return "", nil
		}
		s.mu.Lock()
		d = s.dirLocked(dir, names, true)
		long = d.byShort[key]
		s.mu.Unlock()
	}
	if long == "" {
		return "", nil
	}
	fi, err := sh.cfg.FS.Stat(ctx, path.Join(dir, long))
	if err != nil {
		// Gone behind our back: forget it.
		s.mu.Lock()
		if _, found := d.remove(long); found {
			s.total--
		}
		s.mu.Unlock()
		return "", nil
	}
	return long, fi
}

// tunneled returns the long name a file of dir deleted or renamed away in
// the last 15 seconds had, when name was its short name; "" otherwise.
func (sh *shareState) tunneled(dir, name string) string {
	if !strings.Contains(name, "~") || !fscc.Is83(name) {
		return ""
	}
	s := &sh.shorts
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tunneledLocked(dir, func(t *tunnelRecord) bool { return strings.EqualFold(t.short, name) }); t != nil {
		return t.long
	}
	return ""
}

// tunneledLocked returns the newest record of dir younger than tunnelAge
// that match accepts, or nil. The caller holds s.mu.
func (s *shortNames) tunneledLocked(dir string, match func(*tunnelRecord) bool) *tunnelRecord {
	key := foldKey(dir)
	for i := len(s.tunnel) - 1; i >= 0; i-- {
		t := &s.tunnel[i]
		if time.Since(t.at) > tunnelAge {
			break
		}
		if t.dir == key && match(t) {
			return t
		}
	}
	return nil
}

// nameRemoved is told that name (a file or directory) no longer exists
// under that name: its short name is freed and kept for tunneling.
func (sh *shareState) nameRemoved(name string, isDir bool) {
	dir, base := splitParent(name)
	s := &sh.shorts
	s.mu.Lock()
	defer s.mu.Unlock()
	if isDir {
		// Its own table and those below it.
		prefix := foldKey(name) + "/"
		for k, d := range s.dirs {
			if k == foldKey(name) || strings.HasPrefix(k, prefix) {
				s.total -= d.size()
				delete(s.dirs, k)
			}
		}
	}
	d := s.dirs[foldKey(dir)]
	if d == nil {
		return
	}
	short, found := d.remove(base)
	if found {
		s.total--
	}
	if short == "" {
		return
	}
	now := time.Now()
	for len(s.tunnel) > 0 && (len(s.tunnel) >= maxTunnel || now.Sub(s.tunnel[0].at) > tunnelAge) {
		s.tunnel = s.tunnel[1:]
	}
	s.tunnel = append(s.tunnel, tunnelRecord{dir: foldKey(dir), long: base, short: short, at: now})
}

// nameAdded is told that name now exists (created, or renamed to): a
// valid 8.3 name holds its own short name from now on; another gets the
// short name tunneled for it when there is one.
func (sh *shareState) nameAdded(name string) {
	dir, base := splitParent(name)
	s := &sh.shorts
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dirs[foldKey(dir)]
	if d == nil {
		return
	}
	if fscc.Is83(base) {
		if !d.plain[foldKey(base)] {
			d.plain[foldKey(base)] = true
			s.total++
		}
		return
	}
	if _, ok := d.byLong[foldKey(base)]; ok {
		return
	}
	t := s.tunneledLocked(dir, func(t *tunnelRecord) bool { return strings.EqualFold(t.long, base) })
	if t == nil {
		return // given one when first needed
	}
	if d.assign(base, t.short) != "" {
		s.total++
	}
}
