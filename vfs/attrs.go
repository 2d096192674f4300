package vfs

import (
	"context"
	"io/fs"
	"time"
)

// Windows metadata a POSIX file has no place for: the FILE_ATTRIBUTE_* bits
// (read-only, hidden, system, archive ...), a creation time a client set,
// and a change time a client set. A backend that stores them implements
// AttrStore and returns FileInfos that implement AttrInfo (and BirthTimer,
// ChangeTimer), so every Stat, ReadDir and File.Stat reports them. Mem keeps
// them in memory, Dir in the "user.smb_attrs" extended attribute.

// Attrs is what SetAttrs stores.
type Attrs struct {
	// FileAttributes are the FILE_ATTRIBUTE_* bits (MS-FSCC 2.6), without
	// FILE_ATTRIBUTE_DIRECTORY, which the backend knows itself.
	FileAttributes uint32
	// Birth, when not zero, is the creation time to report from now on.
	Birth time.Time
	// Change, when not zero, is the change time to report until the file
	// changes again.
	Change time.Time
}

// AttrStore is implemented by backends that keep Attrs for their files.
type AttrStore interface {
	// SetAttrs stores a for name. FileAttributes always replaces what was
	// stored; zero times leave the stored ones alone.
	SetAttrs(ctx context.Context, name string, a Attrs) error
}

// AttrInfo is a FileInfo that carries stored FILE_ATTRIBUTE_* bits; ok is
// false when none were ever stored for the file.
type AttrInfo interface {
	FileAttributes() (attrs uint32, ok bool)
}

// AttributesOf returns the FILE_ATTRIBUTE_* bits stored for fi's file.
func AttributesOf(fi fs.FileInfo) (uint32, bool) {
	if a, ok := fi.(AttrInfo); ok {
		return a.FileAttributes()
	}
	return 0, false
}
