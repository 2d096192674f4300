package vfs

import (
	"io/fs"
	"time"
)

// The optional methods a FileInfo may have beyond fs.FileInfo. The OS
// backend's FileInfo carries a *syscall.Stat_t in Sys() instead; Times and
// FileID read either.

// AccessTimer is a FileInfo that knows its last access time.
type AccessTimer interface{ AccessTime() time.Time }

// ChangeTimer is a FileInfo that knows its last metadata change time.
type ChangeTimer interface{ ChangeTime() time.Time }

// BirthTimer is a FileInfo that knows its creation time.
type BirthTimer interface{ BirthTime() time.Time }

// FileIDer is a FileInfo with an identifier stable for the life of the file
// and unique within the backend (an inode number).
type FileIDer interface{ FileID() uint64 }

// EAInfo is a FileInfo that carries its file's extended attributes, read
// with the rest of what it describes (Dir reads them with the stored
// attributes, through the same open): a directory listing's EaSize then
// costs no call per entry. False means they are not known: ask EAer.
type EAInfo interface {
	ExtendedAttributes() ([]EA, bool)
}

// SDInfo is a FileInfo that carries its file's stored security
// descriptor, read with the rest of what it describes (Dir's Stat reads
// it under the same directory as the stat): a CREATE's access check then
// costs no further call. sd is nil when none is stored. False means it is
// not known, or store is not the SDStore it was read from: ask store.
type SDInfo interface {
	StoredSecurityDescriptor(store SDStore) (sd []byte, ok bool)
}

// Linkser is a FileInfo that knows its hard link count.
type Linkser interface{ Links() uint32 }

// Times are a file's four timestamps.
type Times struct {
	Birth, Access, Modify, Change time.Time
}

// TimesOf returns fi's timestamps, using the optional methods above or the
// platform's stat structure, and ModTime for what neither knows.
func TimesOf(fi fs.FileInfo) Times {
	t := Times{Modify: fi.ModTime()}
	t.Access, t.Change, t.Birth = t.Modify, t.Modify, t.Modify
	sysTimes(fi, &t)
	if a, ok := fi.(AccessTimer); ok {
		t.Access = a.AccessTime()
	}
	if c, ok := fi.(ChangeTimer); ok {
		t.Change = c.ChangeTime()
	}
	if b, ok := fi.(BirthTimer); ok {
		t.Birth = b.BirthTime()
	}
	return t
}

// FileIDOf returns fi's stable identifier, or 0 when the backend has none.
func FileIDOf(fi fs.FileInfo) uint64 {
	if f, ok := fi.(FileIDer); ok {
		return f.FileID()
	}
	return sysFileID(fi)
}

// LinksOf returns fi's hard link count (1 when unknown).
func LinksOf(fi fs.FileInfo) uint32 {
	if l, ok := fi.(Linkser); ok {
		return l.Links()
	}
	if n := sysLinks(fi); n > 0 {
		return n
	}
	return 1
}
