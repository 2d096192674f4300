package vfs

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ReadDirPage lists up to n entries of a directory after the cursor after
// (DirPager), in the file system's order. A cursor is the directory offset
// getdents(2) gives with each entry (d_off: the position after it), which
// the file system keeps valid for as long as the directory exists (ext4's
// hash cookies, tmpfs's stable offsets), as an NFS server needs: a page
// costs a seek, the reads of its entries and a stat of each.
func (d *DirFS) ReadDirPage(ctx context.Context, name, after string, n int) ([]DirEntry, error) {
	var off int64
	if after != "" {
		v, err := strconv.ParseInt(after, 10, 64)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
		}
		off = v
	}
	// The directory as a root of its own: each entry's stat is then one
	// fstatat, not a walk from the share's root.
	sub, err := d.root.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	f, err := sub.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	type dent struct {
		name string
		off  int64
	}
	var ents []dent
	eof := false
	buf := make([]byte, min(max(n, 8)*64, 64<<10))
	var serr error
	cerr := rc.Control(func(fd uintptr) {
		if _, serr = unix.Seek(int(fd), off, io.SeekStart); serr != nil {
			return
		}
		for len(ents) < n {
			nb, err := unix.Getdents(int(fd), buf)
			if err != nil {
				serr = err
				return
			}
			if nb == 0 {
				eof = true
				return
			}
			// struct linux_dirent64: ino u64, off s64, reclen u16,
			// type u8, name NUL-terminated.
			for b := buf[:nb]; len(b) >= 19; {
				reclen := int(binary.NativeEndian.Uint16(b[16:18]))
				if reclen < 19 || reclen > len(b) {
					serr = errors.New("vfs: bad dirent")
					return
				}
				nm := b[19:reclen]
				for i, c := range nm {
					if c == 0 {
						nm = nm[:i]
						break
					}
				}
				doff := int64(binary.NativeEndian.Uint64(b[8:16]))
				b = b[reclen:]
				if s := string(nm); s != "." && s != ".." {
					if len(ents) == n {
						// Read beyond the page: the next call seeks back.
						return
					}
					ents = append(ents, dent{s, doff})
				}
			}
		}
	})
	if cerr != nil {
		return nil, cerr
	}
	if serr != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: serr}
	}
	// Each entry's stat, birth time, stored Attrs and EAs, read now (a
	// listing reports them all) by name under the open directory: a
	// statx and a listxattr, and a getxattr for the Attrs, not an open of
	// the entry and a walk from the share's root for each. The page's
	// FileInfos are one allocation.
	out := make([]DirEntry, 0, len(ents))
	infos := make([]entryInfo, len(ents))
	cerr = rc.Control(func(fd uintptr) {
		for i, e := range ents {
			info := &infos[i]
			serr = statEntryAt(d.xc, int(fd), e.name, wantEAs, info)
			if errors.Is(serr, unix.ENOENT) {
				serr = nil
				continue // removed since the read
			}
			if serr != nil {
				return
			}
			info.src = d
			out = append(out, DirEntry{Info: &info.dirInfo, Cursor: strconv.FormatInt(e.off, 10)})
		}
	})
	if cerr != nil {
		return nil, cerr
	}
	if serr != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: serr}
	}
	if eof {
		return out, io.EOF
	}
	return out, nil
}

// entryInfo is a dirInfo and the stat it describes, in one allocation.
type entryInfo struct {
	dirInfo
	si statInfo
	st syscall.Stat_t
}

// statEntryAt describes the entry name of the open directory dirfd in
// into, without following a symbolic link: its stat and birth time from
// one statx, and the stored Attrs and what want asks for (the EAs, the
// stored descriptor) by name under the directory (entryXattrs), so the
// entry itself is not opened. What c remembers of the entry's xattrs
// (dir_xattrcache_linux.go) is not read again.
func statEntryAt(c *xattrCache, dirfd int, name string, want xattrWant, into *entryInfo) error {
	var stx unix.Statx_t
	if err := unix.Statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS|unix.STATX_BTIME, &stx); err != nil {
		return err
	}
	into.fill(name, &stx)
	l := &into.dirLoaded
	if e := c.get(&stx); e != nil && (e.easOK || want&wantEAs == 0) && (e.sdOK || want&wantSD == 0) {
		e.load(l)
		return nil
	}
	start := time.Now()
	entryXattrs(dirfd, name, l, want)
	if c.settled(&stx, start) {
		if e := entryOf(l); e != nil {
			c.put(&stx, e)
		}
	}
	return nil
}

// fill sets i to describe the statx result stx of name: the FileInfo
// os.Lstat would give (the same mode bits, a *syscall.Stat_t in Sys())
// and the birth time.
func (i *entryInfo) fill(name string, stx *unix.Statx_t) {
	i.st = syscall.Stat_t{
		Dev:     unix.Mkdev(stx.Dev_major, stx.Dev_minor),
		Ino:     stx.Ino,
		Nlink:   uint64(stx.Nlink),
		Mode:    uint32(stx.Mode),
		Uid:     stx.Uid,
		Gid:     stx.Gid,
		Rdev:    unix.Mkdev(stx.Rdev_major, stx.Rdev_minor),
		Size:    int64(stx.Size),
		Blksize: int64(stx.Blksize),
		Blocks:  int64(stx.Blocks),
		Atim:    syscall.Timespec{Sec: stx.Atime.Sec, Nsec: int64(stx.Atime.Nsec)},
		Mtim:    syscall.Timespec{Sec: stx.Mtime.Sec, Nsec: int64(stx.Mtime.Nsec)},
		Ctim:    syscall.Timespec{Sec: stx.Ctime.Sec, Nsec: int64(stx.Ctime.Nsec)},
	}
	st := &i.st
	// The mode as os.Lstat builds it (os/stat_linux.go).
	mode := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		mode |= fs.ModeDevice
	case syscall.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		mode |= fs.ModeDir
	case syscall.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		mode |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if st.Mode&syscall.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if st.Mode&syscall.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if st.Mode&syscall.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	i.si = statInfo{name: name, mode: mode, st: st}
	i.FileInfo = &i.si
	if stx.Mask&unix.STATX_BTIME != 0 {
		i.btime = time.Unix(stx.Btime.Sec, int64(stx.Btime.Nsec))
	}
}

// statInfo is a FileInfo over a syscall.Stat_t.
type statInfo struct {
	name string
	mode fs.FileMode
	st   *syscall.Stat_t
}

func (i *statInfo) Name() string       { return i.name }
func (i *statInfo) Size() int64        { return i.st.Size }
func (i *statInfo) Mode() fs.FileMode  { return i.mode }
func (i *statInfo) ModTime() time.Time { return time.Unix(i.st.Mtim.Sec, i.st.Mtim.Nsec) }
func (i *statInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *statInfo) Sys() any           { return i.st }
