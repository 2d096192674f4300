package vfs

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"path"
	"strconv"

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
	out := make([]DirEntry, 0, len(ents))
	for _, e := range ents {
		p := path.Join(name, e.name)
		fi, err := sub.Lstat(e.name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the read
			}
			return nil, err
		}
		out = append(out, DirEntry{Info: d.decorate(p, fi), Cursor: strconv.FormatInt(e.off, 10)})
	}
	if eof {
		return out, io.EOF
	}
	return out, nil
}
