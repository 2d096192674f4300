package vfs

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DirFS serves an OS directory. Every name is resolved through os.Root, so
// no name, symbolic link or ".." can reach outside the directory.
type DirFS struct {
	root   *os.Root
	rootFD int // the root directory (O_PATH) for lookups in one syscall (Linux), or -1
	// xc remembers what the xattrs of files held when last read (Linux:
	// dir_xattrcache_linux.go); nil: read every time.
	xc *xattrCache
	// dirs keeps directories of the share open for lookups (Linux:
	// dir_dircache_linux.go); nil: each lookup opens its directory.
	dirs *dirCache
}

// Dir opens the directory path for serving.
func Dir(path string) (*DirFS, error) {
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("vfs: %w", err)
	}
	d := &DirFS{root: r}
	d.rootFD = openRootFD(d)
	d.xc = newXattrCache(d.rootFD)
	d.dirs = newDirCache(d.rootFD)
	return d, nil
}

// Close releases the directory.
func (d *DirFS) Close() error {
	d.dirs.close()
	closeRootFD(d.rootFD)
	d.rootFD = -1
	return d.root.Close()
}

// OpenFile opens a regular file; a directory yields ErrIsDir.
func (d *DirFS) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (File, error) {
	f, ok, err := d.openAt(name, flag, perm)
	if !ok {
		f, err = d.root.OpenFile(name, flag|syscall.O_NOFOLLOW, perm)
	}
	if err != nil {
		return nil, err
	}
	if flag&(O_WRONLY|O_RDWR) != 0 {
		// open(2) refuses a directory for writing (EISDIR: ErrIsDir).
		return dirFile{File: f, xc: d.xc}, nil
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrIsDir}
	}
	return dirFile{File: f, xc: d.xc}, nil
}

// Stat describes name without following a final symbolic link.
func (d *DirFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	if fi, ok, err := d.statAt(name); ok {
		return fi, err
	}
	fi, err := d.root.Lstat(name)
	if err != nil {
		return nil, err
	}
	return d.decorate(name, fi), nil
}

// StatBasic describes name as Stat does, from its stat alone
// (BasicStater): no xattr is read.
func (d *DirFS) StatBasic(ctx context.Context, name string) (fs.FileInfo, error) {
	if fi, ok, err := d.statBasicAt(name); ok {
		return fi, err
	}
	fi, err := d.root.Lstat(name)
	if err != nil {
		return nil, err
	}
	return d.decorateBasic(fi), nil
}

// ReadDir lists a directory.
func (d *DirFS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	f, err := d.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list, err := f.Readdir(-1)
	if err != nil {
		return nil, err
	}
	d.decorateList(name, list)
	return list, nil
}

// ReadDirNames lists the names in a directory without a stat of each.
func (d *DirFS) ReadDirNames(ctx context.Context, name string) ([]string, error) {
	f, err := d.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// Mkdir creates a directory.
func (d *DirFS) Mkdir(ctx context.Context, name string, perm fs.FileMode) error {
	return d.root.Mkdir(name, perm)
}

// Remove removes a file or empty directory.
func (d *DirFS) Remove(ctx context.Context, name string) error {
	if ok, err := d.removeAt(name); ok {
		return err
	}
	if err := d.root.Remove(name); err != nil {
		return err
	}
	d.dirs.forget(name) // it may have been a directory kept open
	return nil
}

// Rename moves a file or directory.
func (d *DirFS) Rename(ctx context.Context, oldname, newname string) error {
	return d.root.Rename(oldname, newname)
}

// Chtimes sets access and modification times; a zero time is left alone.
func (d *DirFS) Chtimes(ctx context.Context, name string, atime, mtime time.Time) error {
	return d.chtimes(name, atime, mtime)
}

// Link creates a hard link.
func (d *DirFS) Link(ctx context.Context, oldname, newname string) error {
	return d.root.Link(oldname, newname)
}

// StatFS reports the capacity of the file system holding the directory.
func (d *DirFS) StatFS(ctx context.Context) (FSStat, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(d.root.Name(), &st); err != nil {
		return FSStat{}, err
	}
	bs := uint64(st.Bsize)
	return FSStat{TotalBytes: st.Blocks * bs, FreeBytes: st.Bavail * bs, BlockSize: uint32(bs)}, nil
}
