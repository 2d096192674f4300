package fscc

import "github.com/cifsd/cifsd/internal/utf16le"

// DirEntry is one directory entry as QUERY_DIRECTORY reports it; each
// class encodes the fields it has.
type DirEntry struct {
	Name           string
	ShortName      string // 8.3 name, when the long name is not one
	CreationTime   uint64 // FILETIME
	LastAccessTime uint64
	LastWriteTime  uint64
	ChangeTime     uint64
	EndOfFile      int64
	AllocationSize int64
	FileAttributes uint32
	EaSize         uint32
	FileID         uint64
	ReparseTag     uint32
}

// dirFixed is the size of each class's fixed part, before FileName
// (MS-FSCC 2.4.8, 2.4.14, 2.4.15, 2.4.17, 2.4.18, 2.4.26, 2.4.19).
var dirFixed = map[uint8]int{
	FileDirectoryInformation:       64,
	FileFullDirectoryInformation:   68,
	FileBothDirectoryInformation:   94,
	FileIdBothDirectoryInformation: 104,
	FileIdFullDirectoryInformation: 80,
	FileNamesInformation:           12,
	FileIdExtdDirectoryInformation: 88,
}

// DirClassSupported reports whether class is a directory information class
// DirWriter encodes.
func DirClassSupported(class uint8) bool { _, ok := dirFixed[class]; return ok }

// DirWriter appends directory entries of one class to a buffer, 8-byte
// aligned and chained by NextEntryOffset.
type DirWriter struct {
	class uint8
	buf   []byte
	n     int // bytes used
	last  int // offset of the last entry, -1 before the first
}

// NewDirWriter returns a writer of class entries into buf, whose length
// bounds the output.
func NewDirWriter(class uint8, buf []byte) (*DirWriter, error) {
	if !DirClassSupported(class) {
		return nil, ErrInvalidClass
	}
	return &DirWriter{class: class, buf: buf, last: -1}, nil
}

// Add appends e and reports whether it fit.
func (w *DirWriter) Add(e *DirEntry) bool {
	fixed := dirFixed[w.class]
	nameLen := utf16le.EncodedLen(e.Name)
	start := (w.n + 7) &^ 7
	if w.last < 0 {
		start = 0
	}
	size := fixed + nameLen
	if start+size > len(w.buf) {
		return false
	}
	b := w.buf[start : start+size]
	clear(w.buf[w.n : start+size]) // the padding before it too: buf may be reused
	if w.last >= 0 {
		le.PutUint32(w.buf[w.last:], uint32(start-w.last))
	}
	le.PutUint32(b[4:], 0) // FileIndex: undefined on NTFS-like systems
	if w.class == FileNamesInformation {
		le.PutUint32(b[8:], uint32(nameLen))
		utf16le.Put(b[12:], e.Name)
	} else {
		le.PutUint64(b[8:], e.CreationTime)
		le.PutUint64(b[16:], e.LastAccessTime)
		le.PutUint64(b[24:], e.LastWriteTime)
		le.PutUint64(b[32:], e.ChangeTime)
		le.PutUint64(b[40:], uint64(e.EndOfFile))
		le.PutUint64(b[48:], uint64(e.AllocationSize))
		le.PutUint32(b[56:], e.FileAttributes)
		le.PutUint32(b[60:], uint32(nameLen))
		ea := e.EaSize
		if e.FileAttributes&FileAttributeReparsePoint != 0 {
			ea = e.ReparseTag
		}
		switch w.class {
		case FileFullDirectoryInformation:
			le.PutUint32(b[64:], ea)
		case FileIdFullDirectoryInformation:
			le.PutUint32(b[64:], ea)
			le.PutUint64(b[72:], e.FileID)
		case FileBothDirectoryInformation, FileIdBothDirectoryInformation:
			le.PutUint32(b[64:], ea)
			short := e.ShortName
			if utf16le.EncodedLen(short) > 24 {
				short = ""
			}
			b[68] = byte(utf16le.Put(b[70:94], short))
			if w.class == FileIdBothDirectoryInformation {
				le.PutUint64(b[96:], e.FileID)
			}
		case FileIdExtdDirectoryInformation:
			le.PutUint32(b[64:], ea)
			le.PutUint32(b[68:], e.ReparseTag)
			le.PutUint64(b[72:], e.FileID) // FileId is 128-bit; low half
		}
		utf16le.Put(b[fixed:], e.Name)
	}
	w.last = start
	w.n = start + size
	return true
}

// Bytes returns the entries written so far.
func (w *DirWriter) Bytes() []byte { return w.buf[:w.n] }

// Len is the number of bytes written so far.
func (w *DirWriter) Len() int { return w.n }
