package smb

import (
	"io/fs"
	"strings"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/vfs"
)

// meta is what SMB reports about a file, derived from the backend's
// FileInfo: FILETIMEs, sizes, DOS attributes and the file id.
type meta struct {
	creation, access, write, change uint64 // FILETIME
	size, alloc                     int64
	attrs                           uint32
	id                              uint64
	links                           uint32
	isDir                           bool
}

// allocUnit is the allocation granularity reported (and the FS sector
// size): sizes are rounded up to it.
const allocUnit = 4096

func metaOf(fi fs.FileInfo) meta {
	t := vfs.TimesOf(fi)
	m := meta{
		creation: fscc.FileTime(t.Birth),
		access:   fscc.FileTime(t.Access),
		write:    fscc.FileTime(t.Modify),
		change:   fscc.FileTime(t.Change),
		id:       vfs.FileIDOf(fi),
		links:    vfs.LinksOf(fi),
		isDir:    fi.IsDir(),
	}
	if !m.isDir {
		m.size = fi.Size()
		m.alloc = (m.size + allocUnit - 1) / allocUnit * allocUnit
	}
	// The stored attributes (info_attrs.go), DIRECTORY for a directory, NORMAL
	// for a file with none (MS-FSA 2.1.5.12.6; MS-FSCC 2.6: NORMAL is
	// valid only alone).
	m.attrs = storedAttributes(fi)
	if m.isDir {
		m.attrs |= fscc.FileAttributeDirectory
	}
	if strings.HasPrefix(fi.Name(), ".") && fi.Name() != "." && fi.Name() != ".." {
		m.attrs |= fscc.FileAttributeHidden
	}
	if m.attrs == 0 {
		m.attrs = fscc.FileAttributeNormal
	}
	return m
}
