//go:build !linux

package vfs

import (
	"io/fs"
	"os"
	"time"
)

func (d *DirFS) decorate(name string, fi fs.FileInfo) fs.FileInfo { return fi }

func (d *DirFS) decorateList(dir string, list []fs.FileInfo) {}

type dirFile struct {
	*os.File
}

func (d *DirFS) chtimes(name string, atime, mtime time.Time) error {
	return d.root.Chtimes(name, atime, mtime)
}
