package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Metadata of one name in a syscall or three. os.Root resolves a path a
// component at a time, an open and a close per directory, and its *os.File
// adds a fstat, an epoll registration and fcntls; a Stat then a read of the
// stored Attrs cost about twenty syscalls. Here the parent directory is
// opened with one openat2(2) confined to the share (RESOLVE_BENEATH: no
// symbolic link or ".." may lead outside, as os.Root guarantees), and the
// entry is read by name under it (statx, listxattrat, getxattrat). Where
// openat2 is missing (Linux before 5.6, or a seccomp filter) or refuses a
// path, the os.Root path answers instead.

// openat2Missing is set once openat2 answered ENOSYS or EPERM.
var openat2Missing atomic.Bool

// openRootFD opens the share's directory for parentAt (-1 when it cannot).
func openRootFD(d *DirFS) int {
	f, err := d.root.OpenFile(".", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1
	}
	defer f.Close()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// closeRootFD releases what openRootFD opened.
func closeRootFD(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}

// parentAt opens the directory holding name (O_PATH), or takes it from
// the directories kept open (dir_dircache_linux.go), and returns it with
// the final component; the caller releases it. ok is false when the fast
// path does not apply (the caller then uses os.Root); err is the
// resolution's error otherwise (ENOENT, ENOTDIR).
func (d *DirFS) parentAt(name string) (h heldDir, base string, ok bool, err error) {
	if d.rootFD < 0 || openat2Missing.Load() || name == "." || !fs.ValidPath(name) {
		return heldDir{}, "", false, nil
	}
	dir, base := path.Split(name)
	if dir == "" {
		return heldDir{fd: d.rootFD}, base, true, nil
	}
	dir = dir[:len(dir)-1]
	if h, ok := d.dirs.lookup(dir); ok {
		return h, base, true, nil
	}
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := openat2Retry(d.rootFD, dir, &how)
	switch {
	case err == nil:
		return heldDir{fd: fd, own: true}, base, true, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
		openat2Missing.Store(true)
		return heldDir{}, "", false, nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOTDIR):
		return heldDir{}, "", true, err
	}
	// An escape (EXDEV), a loop, a race: os.Root gives its own answer.
	return heldDir{}, "", false, nil
}

// statAt is Stat through parentAt: the entry's stat and birth time from
// one statx, its Attrs and descriptor read with it (entryXattrs; a
// CREATE's access check reads the descriptor next; the EAs, which only a
// listing reports, are read when first asked for). ok is false when the
// caller must use os.Root.
func (d *DirFS) statAt(name string) (fi fs.FileInfo, ok bool, err error) {
	h, base, ok, err := d.parentAt(name)
	if !ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	defer h.release()
	fd := h.fd
	info := new(entryInfo)
	if err := statEntryAt(d.xc, fd, base, wantSD, info); err != nil {
		return nil, true, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	info.src = d
	if !info.easOK {
		info.eaName = name // read if asked for (ExtendedAttributes)
	}
	return &info.dirInfo, true, nil
}

// statBasicAt is StatBasic through parentAt: one statx, no xattr. ok is
// false when the caller must use os.Root.
func (d *DirFS) statBasicAt(name string) (fi fs.FileInfo, ok bool, err error) {
	h, base, ok, err := d.parentAt(name)
	if !ok {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	defer h.release()
	fd := h.fd
	var stx unix.Statx_t
	if err := unix.Statx(fd, base, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); err != nil {
		return nil, true, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	info := new(entryInfo)
	info.fill(base, &stx)
	return &info.dirInfo, true, nil
}

// loadAttrsAt is loadAttrs through parentAt.
func (d *DirFS) loadAttrsAt(name string) (l dirLoaded, ok bool) {
	h, base, ok, err := d.parentAt(name)
	if !ok || err != nil {
		return l, ok
	}
	defer h.release()
	fd := h.fd
	var stx unix.Statx_t
	if err := unix.Statx(fd, base, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BTIME, &stx); err != nil {
		return l, true
	}
	if stx.Mask&unix.STATX_BTIME != 0 {
		l.btime = time.Unix(stx.Btime.Sec, int64(stx.Btime.Nsec))
	}
	entryXattrs(fd, base, &l, wantEAs)
	return l, true
}

// removeAt is Remove through parentAt: an unlinkat(2) under the
// directory, and as os.Root does, a second one for a directory when the
// name is not a file. ok is false when the caller must use os.Root.
func (d *DirFS) removeAt(name string) (ok bool, err error) {
	h, base, ok, err := d.parentAt(name)
	if !ok {
		return false, nil
	}
	if err != nil {
		return true, &fs.PathError{Op: "removeat", Path: name, Err: err}
	}
	defer h.release()
	e := unlinkatRetry(h.fd, base, 0)
	if e == nil {
		return true, nil
	}
	e1 := unlinkatRetry(h.fd, base, unix.AT_REMOVEDIR)
	if e1 == nil {
		d.dirs.forget(name)
		return true, nil
	}
	// Both failed: the directory's answer unless name is not one (os
	// decides so too).
	if !errors.Is(e1, unix.ENOTDIR) {
		e = e1
	}
	return true, &fs.PathError{Op: "removeat", Path: name, Err: e}
}

// unlinkatRetry is unlinkat(2), again after an EINTR.
func unlinkatRetry(dirfd int, name string, flags int) error {
	for {
		err := unix.Unlinkat(dirfd, name, flags)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// openAt is OpenFile's open through one openat2 confined to the share
// (see parentAt), and os.NewFile, which costs one fcntl where os.Root's
// walk and poller registration cost about six syscalls. ok is false when
// the caller must use os.Root.
func (d *DirFS) openAt(name string, flag int, perm fs.FileMode) (f *os.File, ok bool, err error) {
	if d.rootFD < 0 || openat2Missing.Load() || name == "." || !fs.ValidPath(name) {
		return nil, false, nil
	}
	how := unix.OpenHow{
		Flags:   uint64(flag) | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_LARGEFILE,
		Mode:    uint64(syscallMode(perm)),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := openat2Retry(d.rootFD, name, &how)
	switch {
	case err == nil:
		return os.NewFile(uintptr(fd), path.Join(d.root.Name(), name)), true, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM) && flag&unix.O_CREAT == 0:
		// EPERM from a seccomp filter; with O_CREAT it may be the file
		// system's answer, which os.Root then gives too.
		if errors.Is(err, unix.ENOSYS) {
			openat2Missing.Store(true)
		}
		return nil, false, nil
	case errors.Is(err, unix.EXDEV), errors.Is(err, unix.ELOOP), errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
		return nil, false, nil // os.Root gives its own answer
	}
	return nil, true, &fs.PathError{Op: "open", Path: name, Err: err}
}

// syscallMode is os's conversion of a FileMode to open(2)'s mode bits.
func syscallMode(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		o |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		o |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		o |= unix.S_ISVTX
	}
	return o
}
