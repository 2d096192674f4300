//go:build linux

package vfs

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Dir keeps named streams in xattrs "user.smb_stream.NAME", as Samba's
// streams_xattr does; a stream is bounded by what one xattr holds, and the
// streams of a file together by what the file system keeps of a file's
// xattrs (on ext4, one block: about 4 KiB for all of them). A write past
// that fails with ENOSPC (STATUS_DISK_FULL) and leaves the stream as it
// was.
const (
	streamPrefix  = "user.smb_stream."
	maxStreamSize = 64 << 10
)

// streamAttr finds the xattr of stream on fd (names compare ignoring case).
func streamAttr(fd int, stream string) (string, bool, error) {
	attrs, err := xattrsWithPrefix(fd, streamPrefix)
	if err != nil {
		return "", false, err
	}
	for _, attr := range attrs {
		if strings.EqualFold(attr[len(streamPrefix):], stream) {
			return attr, true, nil
		}
	}
	return streamPrefix + stream, false, nil
}

// OpenStream opens (O_CREATE: creates) a named stream of name.
func (d *DirFS) OpenStream(ctx context.Context, name, stream string, flag int) (File, error) {
	f, err := d.root.Open(name)
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	attr, exists, err := streamAttr(fd, stream)
	if err != nil {
		f.Close()
		return nil, err
	}
	switch {
	case exists && flag&O_CREATE != 0 && flag&O_EXCL != 0:
		f.Close()
		return nil, &fs.PathError{Op: "openstream", Path: name + ":" + stream, Err: fs.ErrExist}
	case !exists && flag&O_CREATE == 0:
		f.Close()
		return nil, &fs.PathError{Op: "openstream", Path: name + ":" + stream, Err: fs.ErrNotExist}
	}
	s := &xattrStream{f: f, attr: attr, name: stream, write: flag&(O_WRONLY|O_RDWR) != 0}
	if exists && flag&O_TRUNC == 0 {
		buf := make([]byte, maxStreamSize)
		n, err := unix.Fgetxattr(fd, attr, buf)
		if err != nil {
			f.Close()
			return nil, err
		}
		s.data = append([]byte(nil), buf[:n]...)
	} else if err := unix.Fsetxattr(fd, attr, nil, 0); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Streams lists the named streams of name.
func (d *DirFS) Streams(ctx context.Context, name string) ([]StreamInfo, error) {
	f, err := d.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fd := int(f.Fd())
	attrs, err := xattrsWithPrefix(fd, streamPrefix)
	if err != nil {
		return nil, err
	}
	var out []StreamInfo
	for _, attr := range attrs {
		size, err := unix.Fgetxattr(fd, attr, nil)
		if err != nil {
			continue
		}
		out = append(out, StreamInfo{Name: attr[len(streamPrefix):], Size: int64(size)})
	}
	return out, nil
}

// RemoveStream deletes a named stream.
func (d *DirFS) RemoveStream(ctx context.Context, name, stream string) error {
	f, err := d.root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	attr, exists, err := streamAttr(int(f.Fd()), stream)
	if err != nil {
		return err
	}
	if !exists {
		return &fs.PathError{Op: "removestream", Path: name + ":" + stream, Err: fs.ErrNotExist}
	}
	return unix.Fremovexattr(int(f.Fd()), attr)
}

// xattrStream is an open stream: its content in memory, written back to
// the xattr on every change.
type xattrStream struct {
	mu    sync.Mutex
	f     *os.File
	attr  string
	name  string
	data  []byte
	write bool
}

func (s *xattrStream) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off < 0 {
		return 0, fs.ErrInvalid
	}
	if off >= int64(len(s.data)) {
		return 0, io.EOF
	}
	n := copy(p, s.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (s *xattrStream) WriteAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.write {
		return 0, fs.ErrPermission
	}
	end := off + int64(len(p))
	if off < 0 || end > maxStreamSize {
		return 0, unix.ENOSPC
	}
	// A new slice: s.data stays what the xattr holds if the write fails
	// (the file system has no room for the xattr).
	data := make([]byte, max(end, int64(len(s.data))))
	copy(data, s.data)
	copy(data[off:], p)
	if err := unix.Fsetxattr(int(s.f.Fd()), s.attr, data, 0); err != nil {
		return 0, err
	}
	s.data = data
	return len(p), nil
}

func (s *xattrStream) Truncate(size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.write {
		return fs.ErrPermission
	}
	if size < 0 || size > maxStreamSize {
		return unix.ENOSPC
	}
	data := make([]byte, size)
	copy(data, s.data)
	if err := unix.Fsetxattr(int(s.f.Fd()), s.attr, data, 0); err != nil {
		return err // s.data is still what the xattr holds
	}
	s.data = data
	return nil
}

func (s *xattrStream) Stat() (fs.FileInfo, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &streamInfo{name: s.name, size: int64(len(s.data)), base: fi}, nil
}

// Sync commits the stream: its xattr is the base file's metadata, which
// fsync of the base file commits.
func (s *xattrStream) Sync() error  { return s.f.Sync() }
func (s *xattrStream) Close() error { return s.f.Close() }
