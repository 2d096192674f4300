package vfs

import (
	"context"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// AferoFS serves any afero.Fs.
type AferoFS struct{ fs afero.Fs }

// Afero adapts an afero.Fs. Names are passed through as they are.
func Afero(a afero.Fs) *AferoFS { return &AferoFS{fs: a} }

// OpenFile opens a regular file; a directory yields ErrIsDir.
func (a *AferoFS) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (File, error) {
	f, err := a.fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
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
	return &aferoFile{f: f}, nil
}

// Stat describes name.
func (a *AferoFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	return a.fs.Stat(name)
}

// ReadDir lists a directory.
func (a *AferoFS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	return afero.ReadDir(a.fs, name)
}

// Mkdir creates a directory.
func (a *AferoFS) Mkdir(ctx context.Context, name string, perm fs.FileMode) error {
	if _, err := a.fs.Stat(name); err == nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrExist}
	}
	return a.fs.Mkdir(name, perm)
}

// Remove removes a file or empty directory.
func (a *AferoFS) Remove(ctx context.Context, name string) error {
	fi, err := a.fs.Stat(name)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		list, err := afero.ReadDir(a.fs, name)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			return &fs.PathError{Op: "remove", Path: name, Err: ErrNotEmpty}
		}
	}
	return a.fs.Remove(name)
}

// Rename moves a file or directory.
func (a *AferoFS) Rename(ctx context.Context, oldname, newname string) error {
	return a.fs.Rename(oldname, newname)
}

// Chtimes sets times; a zero time keeps the current one.
func (a *AferoFS) Chtimes(ctx context.Context, name string, atime, mtime time.Time) error {
	if atime.IsZero() || mtime.IsZero() {
		fi, err := a.fs.Stat(name)
		if err != nil {
			return err
		}
		t := TimesOf(fi)
		if atime.IsZero() {
			atime = t.Access
		}
		if mtime.IsZero() {
			mtime = t.Modify
		}
	}
	return a.fs.Chtimes(name, atime, mtime)
}

// aferoFile serialises ReadAt/WriteAt for afero files that are not safe for
// concurrent use.
type aferoFile struct {
	mu sync.Mutex
	f  afero.File
}

func (f *aferoFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.ReadAt(p, off)
}

func (f *aferoFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.WriteAt(p, off)
}

func (f *aferoFile) Close() error               { return f.f.Close() }
func (f *aferoFile) Stat() (os.FileInfo, error) { return f.f.Stat() }
func (f *aferoFile) Truncate(size int64) error  { return f.f.Truncate(size) }
func (f *aferoFile) Sync() error                { return f.f.Sync() }
