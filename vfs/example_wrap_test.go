package vfs_test

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// slowFS adds a delay to every call of the FS it wraps, as a remote
// backend would. Its Unwrap method keeps the capabilities of what it wraps
// (hard links, EAs, paged listings ...) visible to vfs.As, so the server
// still uses them.
type slowFS struct {
	vfs.FS
	delay time.Duration
}

func (s slowFS) wait(ctx context.Context) error {
	select {
	case <-time.After(s.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slowFS) Unwrap() vfs.FS { return s.FS }

func (s slowFS) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (vfs.File, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.FS.OpenFile(ctx, name, flag, perm)
}

func (s slowFS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.FS.Stat(ctx, name)
}

func (s slowFS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return s.FS.ReadDir(ctx, name)
}

// ReadDirPage is slowed too: implementing the capability itself makes
// vfs.As find the wrapper's method rather than the wrapped one's.
func (s slowFS) ReadDirPage(ctx context.Context, name, after string, n int) ([]vfs.DirEntry, error) {
	if err := s.wait(ctx); err != nil {
		return nil, err
	}
	return vfs.ReadDirPage(ctx, s.FS, name, after, n)
}

// Mkdir, Remove, Rename and Chtimes are the embedded FS's (not slowed,
// to keep the example short).

// A latency wrapper around the in-memory backend keeps its optional
// capabilities through Unwrap.
func ExampleAs() {
	ctx := context.Background()
	var fsys vfs.FS = slowFS{FS: vfs.NewMem(), delay: time.Millisecond}

	_, hidden := fsys.(vfs.Linker) // a type assertion sees only slowFS's methods
	l, found := vfs.As[vfs.Linker](fsys)
	fmt.Println("type assertion finds Linker:", hidden)
	fmt.Println("vfs.As finds Linker:", found)

	f, _ := fsys.OpenFile(ctx, "a.txt", vfs.O_RDWR|vfs.O_CREATE, 0o644)
	f.Close()
	if err := l.Link(ctx, "a.txt", "b.txt"); err != nil {
		fmt.Println(err)
	}
	_, viaWrapper := vfs.As[vfs.DirPager](fsys)
	page, _ := vfs.ReadDirPage(ctx, fsys, ".", "", 10)
	fmt.Println("paged listing through the wrapper:", viaWrapper, len(page), "entries")
	// Output:
	// type assertion finds Linker: false
	// vfs.As finds Linker: true
	// paged listing through the wrapper: true 2 entries
}
