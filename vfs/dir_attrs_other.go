//go:build !linux

package vfs

import (
	"io/fs"
	"os"
	"time"
)

func (d *DirFS) decorate(name string, fi fs.FileInfo) fs.FileInfo { return fi }

func (d *DirFS) decorateList(dir string, list []fs.FileInfo) {}

func (d *DirFS) decorateBasic(fi fs.FileInfo) fs.FileInfo { return fi }

type dirFile struct {
	*os.File
	xc *xattrCache
}

// xattrCache is Linux's (dir_xattrcache_linux.go).
type xattrCache struct{}

func newXattrCache(rootFD int) *xattrCache { return nil }

// dirCache is Linux's (dir_dircache_linux.go).
type dirCache struct{}

func newDirCache(rootFD int) *dirCache { return nil }

func (c *dirCache) forget(name string) {}

func (c *dirCache) close() {}

func (d *DirFS) removeAt(name string) (bool, error) { return false, nil }

func (d *DirFS) chtimes(name string, atime, mtime time.Time) error {
	return d.root.Chtimes(name, atime, mtime)
}

// Lookups through an open root directory are Linux's (dir_at_linux.go).
func openRootFD(d *DirFS) int { return -1 }

func closeRootFD(fd int) {}

func (d *DirFS) statAt(name string) (fs.FileInfo, bool, error) { return nil, false, nil }

func (d *DirFS) statBasicAt(name string) (fs.FileInfo, bool, error) { return nil, false, nil }

func (d *DirFS) openAt(name string, flag int, perm fs.FileMode) (*os.File, bool, error) {
	return nil, false, nil
}
