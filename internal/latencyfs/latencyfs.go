// Package latencyfs wraps a vfs.FS so that every call takes at least a
// fixed extra time: a stand-in for a backend that sits behind a network (an
// object store, a remote filesystem), used by the slow-backend benchmark
// (cmd/smbbench -slow). Requests that wait on one backend call each, one
// after the other, are slowed by the delay; requests served concurrently
// overlap their delays, so the wrapper shows how far the server runs
// backend calls in parallel.
//
// The wrapper keeps what it wraps reachable: Unwrap returns the inner FS,
// and when the inner FS has every optional interface vfs.Mem has (StatFSer,
// NameLister, Linker, EAer, Streamer, AttrStore, SDStore, Sparser), so does
// the wrapper, each call delayed as well. Open files are wrapped the same
// way (ModTimeSetter, HolePuncher and DataRanger forwarded when the inner
// file has all three).
package latencyfs

import (
	"context"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// Counter is implemented by every FS New returns.
type Counter interface{ Calls() int64 }

// New returns fsys with delay added to every call of the FS and of the
// files it opens. The delay honours ctx where a call has one: a cancelled
// request does not wait it out.
func New(fsys vfs.FS, delay time.Duration) vfs.FS {
	b := &FS{inner: fsys, delay: delay}
	if _, ok := fsys.(memLike); ok {
		return &capFS{FS: b}
	}
	return b
}

// memLike is the set of optional interfaces forwarded together (the ones
// vfs.Mem implements). A wrapper cannot claim an interface its inner FS
// lacks, and Go cannot compose methods at run time, so the wrapper
// forwards all of them or none (the rest stay reachable through Unwrap).
type memLike interface {
	vfs.StatFSer
	vfs.NameLister
	vfs.Linker
	vfs.EAer
	vfs.Streamer
	vfs.AttrStore
	vfs.SDStore
	vfs.Sparser
}

// FS is the wrapper for an FS without the optional interfaces of memLike.
type FS struct {
	inner vfs.FS
	delay time.Duration
	calls atomic.Int64 // every call, of the FS and of its files
}

// Unwrap returns the wrapped FS.
func (l *FS) Unwrap() vfs.FS { return l.inner }

// Delay returns the time added to every call.
func (l *FS) Delay() time.Duration { return l.delay }

// Calls returns how many calls the FS and its files have had so far: the
// benchmark reports backend calls per operation with it.
func (l *FS) Calls() int64 { return l.calls.Load() }

// wait sleeps for the delay, or until ctx is done.
func (l *FS) wait(ctx context.Context) error {
	l.calls.Add(1)
	if l.delay <= 0 {
		return nil
	}
	t := time.NewTimer(l.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// OpenFile implements vfs.FS.
func (l *FS) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (vfs.File, error) {
	if err := l.wait(ctx); err != nil {
		return nil, err
	}
	f, err := l.inner.OpenFile(ctx, name, flag, perm)
	if err != nil {
		return nil, err
	}
	return l.wrapFile(f), nil
}

// Stat implements vfs.FS.
func (l *FS) Stat(ctx context.Context, name string) (fs.FileInfo, error) {
	if err := l.wait(ctx); err != nil {
		return nil, err
	}
	return l.inner.Stat(ctx, name)
}

// ReadDir implements vfs.FS.
func (l *FS) ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error) {
	if err := l.wait(ctx); err != nil {
		return nil, err
	}
	return l.inner.ReadDir(ctx, name)
}

// Mkdir implements vfs.FS.
func (l *FS) Mkdir(ctx context.Context, name string, perm fs.FileMode) error {
	if err := l.wait(ctx); err != nil {
		return err
	}
	return l.inner.Mkdir(ctx, name, perm)
}

// Remove implements vfs.FS.
func (l *FS) Remove(ctx context.Context, name string) error {
	if err := l.wait(ctx); err != nil {
		return err
	}
	return l.inner.Remove(ctx, name)
}

// Rename implements vfs.FS.
func (l *FS) Rename(ctx context.Context, oldname, newname string) error {
	if err := l.wait(ctx); err != nil {
		return err
	}
	return l.inner.Rename(ctx, oldname, newname)
}

// Chtimes implements vfs.FS.
func (l *FS) Chtimes(ctx context.Context, name string, atime, mtime time.Time) error {
	if err := l.wait(ctx); err != nil {
		return err
	}
	return l.inner.Chtimes(ctx, name, atime, mtime)
}
