package vfs

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The xattrs of a directory entry, by name under its open directory: with
// listxattrat(2) and getxattrat(2) (Linux 6.13) one syscall each, else
// through the directory's /proc/self/fd path (a walk through procfs).
// Neither follows a final symbolic link.

// xattratMissing is set once the kernel answered ENOSYS.
var xattratMissing atomic.Bool

// xattrArgs is struct xattr_args (linux/xattr.h), XATTR_ARGS_SIZE_VER0.
type xattrArgs struct {
	value uint64 // a user pointer, as __aligned_u64
	size  uint32
	flags uint32
}

// llistxattrAt is llistxattr of the entry name of the directory dirfd.
func llistxattrAt(dirfd int, name string, dest []byte) (int, error) {
	if !xattratMissing.Load() {
		p, err := unix.BytePtrFromString(name)
		if err != nil {
			return 0, err
		}
		var d unsafe.Pointer
		if len(dest) > 0 {
			d = unsafe.Pointer(&dest[0])
		}
		r, _, e := unix.Syscall6(unix.SYS_LISTXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			unix.AT_SYMLINK_NOFOLLOW, uintptr(d), uintptr(len(dest)), 0)
		if e == 0 {
			return int(r), nil
		}
		if e != unix.ENOSYS {
			return 0, e
		}
		xattratMissing.Store(true)
	}
	return unix.Llistxattr(fdPath(uintptr(dirfd))+"/"+name, dest)
}

// lgetxattrAt is lgetxattr of the entry name of the directory dirfd. dest
// must be on the heap (the kernel gets its address inside a struct, where
// the Go stack could not be kept from moving).
func lgetxattrAt(dirfd int, name, attr string, dest []byte) (int, error) {
	if !xattratMissing.Load() && len(dest) > 0 {
		p, err := unix.BytePtrFromString(name)
		if err != nil {
			return 0, err
		}
		a, err := unix.BytePtrFromString(attr)
		if err != nil {
			return 0, err
		}
		args := xattrArgs{value: uint64(uintptr(unsafe.Pointer(&dest[0]))), size: uint32(len(dest))}
		r, _, e := unix.Syscall6(unix.SYS_GETXATTRAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			unix.AT_SYMLINK_NOFOLLOW, uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(&args)), unsafe.Sizeof(args))
		if e == 0 {
			return int(r), nil
		}
		if e != unix.ENOSYS {
			return 0, e
		}
		xattratMissing.Store(true)
	}
	return unix.Lgetxattr(fdPath(uintptr(dirfd))+"/"+name, attr, dest)
}

// xattrScratch is the buffers of one entry's xattr reads; pooled, so on
// the heap, as lgetxattrAt needs.
type xattrScratch struct {
	list  [256]byte
	attrs [attrsLen + 8]byte
}

var xattrScratches = sync.Pool{New: func() any { return new(xattrScratch) }}

// What entryXattrs reads besides the stored Attrs.
type xattrWant uint8

const (
	wantEAs xattrWant = 1 << iota // the EAs (a listing's EaSize)
	wantSD                        // the stored security descriptor (a CREATE's access check)
)

// entryXattrs reads the stored Attrs of the entry name of the directory
// dirfd into l, as loadAttrs does for a path, with wantEAs its EAs and
// with wantSD its stored security descriptor. A file of Dir usually has
// one or two xattrs, attrsXattr and sdXattr: then this is two or three
// syscalls, and two without the EAs (no list: each is read by name).
func entryXattrs(dirfd int, name string, l *dirLoaded, want xattrWant) {
	sc := xattrScratches.Get().(*xattrScratch)
	defer xattrScratches.Put(sc)
	if want&wantEAs == 0 {
		entryXattrsNamed(dirfd, name, l, want&wantSD != 0, sc)
		return
	}
	n, err := llistxattrAt(dirfd, name, sc.list[:])
	names := sc.list[:max(n, 0)]
	for errors.Is(err, unix.ERANGE) {
		if n, err = llistxattrAt(dirfd, name, nil); err != nil {
			break
		}
		names = make([]byte, n)
		n, err = llistxattrAt(dirfd, name, names)
		names = names[:max(n, 0)]
	}
	switch {
	case errors.Is(err, unix.ENOTSUP):
		l.easOK, l.sdOK = true, true // no xattrs on this file system: no EAs, no descriptor
		return
	case err != nil:
		return // as loadAttrs: nothing stored, EAs unknown
	}
	l.easOK = true
	l.sdOK = true // none unless listed
	for attr := range strings.SplitSeq(string(names), "\x00") {
		switch {
		case attr == sdXattr:
			l.sdOK = false
			if want&wantSD != 0 {
				sd, err := readSD(func(buf []byte) (int, error) { return lgetxattrAt(dirfd, name, sdXattr, buf) })
				l.sd, l.sdOK = sd, err == nil
			}
		case attr == attrsXattr:
			if n, err := lgetxattrAt(dirfd, name, attrsXattr, sc.attrs[:]); err == nil {
				l.stored, l.has = decodeAttrs(sc.attrs[:n])
			}
		case strings.HasPrefix(attr, eaPrefix):
			sz, err := lgetxattrAt(dirfd, name, attr, nil)
			if err != nil {
				continue
			}
			v := make([]byte, max(sz, 1))
			if sz, err = lgetxattrAt(dirfd, name, attr, v); err != nil {
				continue
			}
			l.eas = append(l.eas, EA{Name: attr[len(eaPrefix):], Value: v[:sz]})
		}
	}
}

// entryXattrsNamed is entryXattrs without the EAs: the stored Attrs and,
// with withSD, the descriptor, each read by its name, no list. What it
// concludes is what the list would have: an entry on which user xattrs
// cannot be (ENOTSUP: the file system; EPERM: a symbolic link or special
// file) has none stored, no descriptor.
func entryXattrsNamed(dirfd int, name string, l *dirLoaded, withSD bool, sc *xattrScratch) {
	n, err := lgetxattrAt(dirfd, name, attrsXattr, sc.attrs[:])
	switch {
	case err == nil:
		l.stored, l.has = decodeAttrs(sc.attrs[:n])
	case errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EPERM):
		l.easOK, l.sdOK = true, true
		return
	case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ERANGE):
		// none stored, or not ours (too long to decode)
	default:
		return // as loadAttrs: nothing stored, descriptor unknown
	}
	if withSD {
		sd, err := readSD(func(buf []byte) (int, error) { return lgetxattrAt(dirfd, name, sdXattr, buf) })
		l.sd, l.sdOK = sd, err == nil
	}
}
