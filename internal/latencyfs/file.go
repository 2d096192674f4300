package latencyfs

import (
	"io/fs"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// file is an open file of the wrapper: every method waits the delay first.
// File methods take no context, so these waits cannot be cancelled.
type file struct {
	inner vfs.File
	fs    *FS
}

// fileCaps is the set of optional File interfaces forwarded together (the
// ones vfs.Mem's files implement).
type fileCaps interface {
	vfs.ModTimeSetter
	vfs.HolePuncher
	vfs.DataRanger
}

// capFile is a file whose inner file has every interface in fileCaps.
type capFile struct{ *file }

func (l *FS) wrapFile(f vfs.File) vfs.File {
	w := &file{inner: f, fs: l}
	if _, ok := f.(fileCaps); ok {
		return &capFile{w}
	}
	return w
}

func (f *file) wait() {
	f.fs.calls.Add(1)
	if f.fs.delay > 0 {
		time.Sleep(f.fs.delay)
	}
}

// Unwrap returns the wrapped file.
func (f *file) Unwrap() vfs.File { return f.inner }

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.wait()
	return f.inner.ReadAt(p, off)
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	f.wait()
	return f.inner.WriteAt(p, off)
}

func (f *file) Close() error {
	f.wait()
	return f.inner.Close()
}

func (f *file) Stat() (fs.FileInfo, error) {
	f.wait()
	return f.inner.Stat()
}

func (f *file) Truncate(size int64) error {
	f.wait()
	return f.inner.Truncate(size)
}

func (f *file) Sync() error {
	f.wait()
	return f.inner.Sync()
}

func (f *capFile) caps() fileCaps { return f.inner.(fileCaps) }

func (f *capFile) SetModTime(mtime time.Time) error {
	f.wait()
	return f.caps().SetModTime(mtime)
}

func (f *capFile) PunchHole(off, n int64) error {
	f.wait()
	return f.caps().PunchHole(off, n)
}

func (f *capFile) DataRanges(off, n int64, max int) ([]vfs.Range, error) {
	f.wait()
	return f.caps().DataRanges(off, n, max)
}
