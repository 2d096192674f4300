// Package vfs is the filesystem interface cifsd serves from, and its
// backends: an in-memory tree (NewMem), an OS directory confined with os.Root
// (Dir), and an adapter for any afero.Fs (Afero).
//
// The interface is small and SMB-neutral. Names are slash-separated paths
// relative to the root, in the form io/fs accepts (fs.ValidPath): "." is the
// root, no leading or trailing slash, no "." or ".." elements. The server
// validates and cleans every name before it calls a backend; a backend must
// still never let a name reach outside its root.
//
// What only some backends can do is an optional interface: see StatFSer,
// CaseInsensitiver, NameLister, DirPager, Linker, EAer, Streamer, Watcher
// and the FileInfo extensions in info.go. A backend that lacks one still
// serves; the server emulates or answers as Windows would. The server finds
// a capability with As rather than a type assertion, so that a wrapper
// (metrics, caching, latency) with an Unwrap method does not hide the
// capabilities of what it wraps: see Wrapper and the example of As.
package vfs

import (
	"context"
	"io"
	"io/fs"
	"syscall"
	"time"
)

// Open flags, a subset of os.O_* with the same values so backends can pass
// them through.
const (
	O_RDONLY = 0x0
	O_WRONLY = 0x1
	O_RDWR   = 0x2
	O_CREATE = 0x40
	O_EXCL   = 0x80
	O_TRUNC  = 0x200
)

// FS is a filesystem tree served as one share.
//
// Errors follow io/fs: a missing name yields an error for which
// errors.Is(err, fs.ErrNotExist) holds, an existing one fs.ErrExist, a
// refused one fs.ErrPermission; ErrNotEmpty, ErrIsDir and ErrNotDir mark
// the other conditions the server maps to NT status codes.
type FS interface {
	// OpenFile opens the regular file name with flag (O_* above) and, on
	// creation, permission perm.
	OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (File, error)
	// Stat describes name without following a final symbolic link where the
	// backend has links.
	Stat(ctx context.Context, name string) (fs.FileInfo, error)
	// ReadDir lists the directory name, in any order, without "." and "..".
	ReadDir(ctx context.Context, name string) ([]fs.FileInfo, error)
	// Mkdir creates the directory name; its parent must exist.
	Mkdir(ctx context.Context, name string, perm fs.FileMode) error
	// Remove removes the file or empty directory name.
	Remove(ctx context.Context, name string) error
	// Rename moves oldname to newname, replacing a file at newname.
	Rename(ctx context.Context, oldname, newname string) error
	// Chtimes sets the access and modification times of name; a zero time
	// leaves that time unchanged.
	Chtimes(ctx context.Context, name string, atime, mtime time.Time) error
}

// File is an open regular file. ReadAt and WriteAt may be called
// concurrently from several goroutines.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Stat describes the open file.
	Stat() (fs.FileInfo, error)
	// Truncate sets the file's size, extending it with zeros if needed.
	Truncate(size int64) error
	// Sync commits the file's contents to stable storage.
	Sync() error
}

// StatFSer is implemented by backends that know their capacity.
type StatFSer interface {
	StatFS(ctx context.Context) (FSStat, error)
}

// FSStat describes a filesystem's capacity in bytes.
type FSStat struct {
	TotalBytes uint64
	FreeBytes  uint64 // free for the caller (after quotas and reservations)
	BlockSize  uint32 // allocation unit; 0 means 4096
}

// CaseInsensitiver is implemented by backends whose names already compare
// case-insensitively (a Stat of "FILE.TXT" finds "file.txt"), so the server
// need not fold names itself: it keeps no name index for them and looks
// every name up with the backend.
type CaseInsensitiver interface {
	CaseInsensitive() bool
}

// NameLister is implemented by backends that list a directory's names
// more cheaply than ReadDir describes its entries (no stat per entry):
// cifsd builds its per-directory index of names (case-insensitive lookup,
// 8.3 names) with it.
type NameLister interface {
	ReadDirNames(ctx context.Context, name string) ([]string, error)
}

// ReadDirNames lists the names in directory name, through NameLister when
// fsys has it (found with As) and ReadDir otherwise.
func ReadDirNames(ctx context.Context, fsys FS, name string) ([]string, error) {
	if nl, ok := As[NameLister](fsys); ok {
		return nl.ReadDirNames(ctx, name)
	}
	list, err := fsys.ReadDir(ctx, name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list))
	for i, fi := range list {
		names[i] = fi.Name()
	}
	return names, nil
}

// BasicStater is implemented by backends whose Stat reads more than the
// file system's stat (Dir: the stored attributes and security descriptor,
// from xattrs). StatBasic describes name as Stat does, without what the
// backend keeps beyond the stat: its times are the file system's, and it
// has no stored attributes, EAs or descriptor to tell. The server uses it
// where the stat is all it needs (a directory's times, which tell whether
// its names changed).
type BasicStater interface {
	StatBasic(ctx context.Context, name string) (fs.FileInfo, error)
}

// StatBasic describes name through BasicStater when fsys has it (found
// with As), and Stat otherwise.
func StatBasic(ctx context.Context, fsys FS, name string) (fs.FileInfo, error) {
	if bs, ok := As[BasicStater](fsys); ok {
		return bs.StatBasic(ctx, name)
	}
	return fsys.Stat(ctx, name)
}

// Linker is implemented by backends with hard links.
type Linker interface {
	Link(ctx context.Context, oldname, newname string) error
}

// Errors a backend returns beyond io/fs's. They are the syscall errnos, so an
// OS backend's errors match them with errors.Is without translation.
var (
	ErrNotEmpty error = syscall.ENOTEMPTY // a directory to remove is not empty
	ErrIsDir    error = syscall.EISDIR    // a file operation named a directory
	ErrNotDir   error = syscall.ENOTDIR   // a path element is not a directory
)
