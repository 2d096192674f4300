//go:build linux

package vfs

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// attrsXattr is the extended attribute Dir keeps Attrs in. It is outside
// the EA and stream namespaces, so clients never see it as either.
//
// Layout (little-endian), version 1:
//
//	0   version (1)
//	1   flags: 1 attributes valid, 2 birth set, 4 change set
//	2   FILE_ATTRIBUTE_* bits (uint32)
//	6   birth: seconds (int64), nanoseconds (uint32)
//	18  change: seconds (int64), nanoseconds (uint32)
//	30  the file's mtime when change was set: seconds, nanoseconds
//
// A stored change time holds while the file's mtime is the one recorded
// with it: a write since then means the file changed again.
const attrsXattr = "user.smb_attrs"

const attrsLen = 42

const (
	attrsValid  = 1
	attrsBirth  = 2
	attrsChange = 4
)

type storedAttrs struct {
	flags  byte
	attrs  uint32
	birth  time.Time
	change time.Time
	mtime  time.Time
}

func putTime(b []byte, t time.Time) {
	binary.LittleEndian.PutUint64(b, uint64(t.Unix()))
	binary.LittleEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
}

func getTime(b []byte) time.Time {
	return time.Unix(int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint32(b[8:])))
}

func (s *storedAttrs) encode() []byte {
	b := make([]byte, attrsLen)
	b[0], b[1] = 1, s.flags
	binary.LittleEndian.PutUint32(b[2:], s.attrs)
	putTime(b[6:], s.birth)
	putTime(b[18:], s.change)
	putTime(b[30:], s.mtime)
	return b
}

func decodeAttrs(b []byte) (storedAttrs, bool) {
	if len(b) < attrsLen || b[0] != 1 {
		return storedAttrs{}, false
	}
	return storedAttrs{
		flags:  b[1],
		attrs:  binary.LittleEndian.Uint32(b[2:]),
		birth:  getTime(b[6:]),
		change: getTime(b[18:]),
		mtime:  getTime(b[30:]),
	}, true
}

// dirInfo is a FileInfo of Dir with what the file system keeps beyond
// stat: the stored Attrs and the birth time (statx).
//
// Stat and ReadDir read them only when asked: the server stats and lists
// far more often than it reports attributes (a create lists the parent to
// match names case-insensitively).
type dirInfo struct {
	fs.FileInfo
	src  *DirFS // the DirFS that read sd (StoredSecurityDescriptor)
	once sync.Once
	load func() dirLoaded // nil: loaded
	dirLoaded
	// eaName is the name a Stat described when it read no EAs: they are
	// read when first asked for (ExtendedAttributes), with src.
	eaName string
	eaOnce sync.Once
}

// dirLoaded is what a dirInfo reads from the file system when first asked,
// through one O_PATH open of the file.
type dirLoaded struct {
	stored storedAttrs
	has    bool
	btime  time.Time // from statx; zero when the file system has none
	eas    []EA      // the file's extended attributes, when easOK
	easOK  bool
	sd     []byte // the stored security descriptor (nil: none), when sdOK
	sdOK   bool
}

func (i *dirInfo) get() {
	i.once.Do(func() {
		if i.load != nil {
			i.dirLoaded = i.load()
			i.load = nil
		}
	})
}

// ExtendedAttributes reports the entry's EAs, read with its stored
// attributes (EAInfo): a listing's EaSize costs no further open.
func (i *dirInfo) ExtendedAttributes() ([]EA, bool) {
	i.get()
	i.eaOnce.Do(func() {
		if i.eaName != "" && !i.easOK && i.src != nil {
			l := i.src.loadAttrs(i.eaName)
			i.eas, i.easOK = l.eas, l.easOK
		}
	})
	return i.eas, i.easOK
}

// StoredSecurityDescriptor reports the descriptor stored for the entry
// when it was read with it (SDInfo: Stat reads it, a listing does not)
// and store is the DirFS that read it.
func (i *dirInfo) StoredSecurityDescriptor(store SDStore) ([]byte, bool) {
	if i.src == nil || store != SDStore(i.src) {
		return nil, false
	}
	i.get()
	return i.sd, i.sdOK
}

func (i *dirInfo) FileAttributes() (uint32, bool) {
	i.get()
	return i.stored.attrs, i.has && i.stored.flags&attrsValid != 0
}

func (i *dirInfo) BirthTime() time.Time {
	i.get()
	if i.has && i.stored.flags&attrsBirth != 0 {
		return i.stored.birth
	}
	if !i.btime.IsZero() {
		return i.btime
	}
	var t Times
	t.Modify = i.ModTime()
	t.Access, t.Change, t.Birth = t.Modify, t.Modify, t.Modify
	sysTimes(i.FileInfo, &t)
	return t.Birth
}

func (i *dirInfo) ChangeTime() time.Time {
	i.get()
	if i.has && i.stored.flags&attrsChange != 0 && i.ModTime().Equal(i.stored.mtime) {
		return i.stored.change
	}
	if st, ok := i.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return i.ModTime()
}

// readAttrs reads the stored Attrs and the birth time of the file at path,
// a /proc/self/fd path, or of fd itself when path is empty.
func readAttrs(fd int, path string, follow bool) (storedAttrs, bool, time.Time) {
	var buf [attrsLen + 8]byte
	var n int
	var err error
	switch {
	case path == "":
		n, err = unix.Fgetxattr(fd, attrsXattr, buf[:])
	case follow:
		n, err = unix.Getxattr(path, attrsXattr, buf[:])
	default:
		n, err = unix.Lgetxattr(path, attrsXattr, buf[:])
	}
	var s storedAttrs
	ok := false
	if err == nil {
		s, ok = decodeAttrs(buf[:n])
	}
	var stx unix.Statx_t
	var bt time.Time
	var serr error
	if path == "" {
		serr = unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BTIME, &stx)
	} else {
		flags := unix.AT_SYMLINK_NOFOLLOW
		if follow {
			flags = 0
		}
		serr = unix.Statx(unix.AT_FDCWD, path, flags, unix.STATX_BTIME, &stx)
	}
	if serr == nil && stx.Mask&unix.STATX_BTIME != 0 {
		bt = time.Unix(stx.Btime.Sec, int64(stx.Btime.Nsec))
	}
	return s, ok, bt
}

func fdPath(fd uintptr) string { return "/proc/self/fd/" + strconv.FormatUint(uint64(fd), 10) }

// loadAttrs reads the stored Attrs and birth time of name.
func (d *DirFS) loadAttrs(name string) dirLoaded {
	if l, ok := d.loadAttrsAt(name); ok {
		return l
	}
	f, err := d.root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return dirLoaded{}
	}
	defer f.Close()
	p := fdPath(f.Fd())
	var l dirLoaded
	l.stored, l.has, l.btime = readAttrs(0, p, true)
	eas, err := readEAsAt(p)
	l.eas, l.easOK = eas, err == nil
	return l
}

// decorate adds the stored Attrs and birth time of name to fi, read when
// first asked for.
func (d *DirFS) decorate(name string, fi fs.FileInfo) fs.FileInfo {
	return &dirInfo{FileInfo: fi, load: func() dirLoaded { return d.loadAttrs(name) }}
}

// decorateBasic makes fi a FileInfo of Dir with nothing stored known
// (StatBasic): no attributes, the file system's times.
func (d *DirFS) decorateBasic(fi fs.FileInfo) fs.FileInfo {
	return &dirInfo{FileInfo: fi}
}

// decorateList does what decorate does for the entries of the directory
// dir.
func (d *DirFS) decorateList(dir string, list []fs.FileInfo) {
	for i, fi := range list {
		name := path.Join(dir, fi.Name())
		list[i] = &dirInfo{FileInfo: fi, load: func() dirLoaded { return d.loadAttrs(name) }}
	}
}

// dirFile is an open file of Dir: an *os.File whose Stat reports the
// stored Attrs too.
type dirFile struct {
	*os.File
	xc *xattrCache // the DirFS's (dir_xattrcache_linux.go)
}

// Stat describes the open file: its stat and birth time from one statx,
// its stored Attrs from its xattr unless xc remembers them.
func (f dirFile) Stat() (fs.FileInfo, error) {
	rc, err := f.File.SyscallConn()
	if err != nil {
		fi, err := f.File.Stat()
		if err != nil {
			return nil, err
		}
		return &dirInfo{FileInfo: fi}, nil
	}
	var out *dirInfo
	var serr error
	cerr := rc.Control(func(fd uintptr) {
		var stx unix.Statx_t
		if serr = unix.Statx(int(fd), "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); serr != nil {
			return
		}
		info := new(entryInfo)
		info.fill(path.Base(f.Name()), &stx)
		out = &info.dirInfo
		if e := f.xc.get(&stx); e != nil {
			out.stored, out.has = e.stored, e.has
			return
		}
		start := time.Now()
		var buf [attrsLen + 8]byte
		n, err := unix.Fgetxattr(int(fd), attrsXattr, buf[:])
		if err == nil {
			out.stored, out.has = decodeAttrs(buf[:n])
		}
		if (err == nil || errors.Is(err, unix.ENODATA)) && f.xc.settled(&stx, start) {
			f.xc.put(&stx, &xattrEntry{has: out.has, stored: out.stored})
		}
	})
	if cerr != nil {
		return nil, &fs.PathError{Op: "stat", Path: f.Name(), Err: cerr}
	}
	if serr != nil {
		return nil, &fs.PathError{Op: "stat", Path: f.Name(), Err: serr}
	}
	return out, nil
}

// SetAttrs stores Windows attributes and times for name (AttrStore).
func (d *DirFS) SetAttrs(ctx context.Context, name string, a Attrs) error {
	f, err := d.root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	p := fdPath(f.Fd())
	old, ok, _ := readAttrs(0, p, true)
	if !ok {
		old = storedAttrs{}
	}
	s := old
	s.flags |= attrsValid
	s.attrs = a.FileAttributes
	if !a.Birth.IsZero() {
		s.flags |= attrsBirth
		s.birth = a.Birth
	}
	if !a.Change.IsZero() {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return err
		}
		s.flags |= attrsChange
		s.change = a.Change
		s.mtime = time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
	} else {
		s.flags &^= attrsChange // this change is the latest: the file system's ctime
	}
	if err := unix.Setxattr(p, attrsXattr, s.encode(), 0); err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return errors.ErrUnsupported
		}
		return err
	}
	return nil
}

// chtimes sets the access and modification times of name with nanosecond
// precision over the whole FILETIME range (os.Chtimes goes through
// UnixNano, which overflows after 2262); a zero time is left alone.
func (d *DirFS) chtimes(name string, atime, mtime time.Time) error {
	f, err := d.root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
	if !atime.IsZero() {
		ts[0] = unix.Timespec{Sec: atime.Unix(), Nsec: int64(atime.Nanosecond())}
	}
	if !mtime.IsZero() {
		ts[1] = unix.Timespec{Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())}
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(f.Fd()), ts, 0)
}
