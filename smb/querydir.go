package smb

import (
	"context"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// queryDirectory enumerates a directory (MS-SMB2 3.3.5.18). The listing is
// a snapshot taken when an enumeration starts; each call returns as many
// entries as fit in the client's buffer.
func (s *Server) queryDirectory(ctx context.Context, req *Request) *Response {
	var r smb2.QueryDirectoryRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if !o.isDir || o.pipe != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if o.access&smb2.FileListDirectory == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	if r.OutputBufferLength > req.conn.maxIO() || !req.checkCredits(r.OutputBufferLength) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if !fscc.DirClassSupported(r.FileInformationClass) {
		return statusResponse(smb2.StatusInvalidInfoClass)
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	restart := r.Flags&(smb2.QueryDirRestartScans|smb2.QueryDirReopen) != 0
	first := o.dir == nil || restart
	if first {
		pattern := r.FileName
		if pattern == "" {
			pattern = "*"
		}
		if o.dir != nil && r.FileName == "" {
			pattern = o.dir.pattern
		}
		o.dir = &dirEnum{pattern: pattern}
	}
	d := o.dir
	// The enumeration position is a name, as in an NTFS index: each call
	// lists the directory as it is now and goes on after the last name
	// returned, so files deleted meanwhile are not returned and files
	// created after the position are.
	list, err := o.share.cfg.FS.ReadDir(ctx, o.name)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	sortDirEntries(list)
	d.entries = list
	d.next = 0
	if d.started {
		d.next = sort.Search(len(list), func(i int) bool { return dirKeyLess(d.last, list[i].Name()) })
	}

	// Short names, where the class shows them or the pattern may name one
	// (MS-FSA 2.1.5.6.3 matches a file's short name too).
	shortOf := func(string) string { return "" }
	both := r.FileInformationClass == fscc.FileBothDirectoryInformation ||
		r.FileInformationClass == fscc.FileIdBothDirectoryInformation
	if both || d.pattern != "*" && d.pattern != "*.*" {
		names := make([]string, len(list))
		for i, fi := range list {
			names[i] = fi.Name()
		}
		tab := o.share.shortTable(o.name, names, first) // shortname.go
		shortOf = func(name string) string { return o.share.listedShort(tab, o.name, name) }
	}

	w, err := fscc.NewDirWriter(r.FileInformationClass, make([]byte, r.OutputBufferLength))
	if err != nil {
		return statusResponse(smb2.StatusInvalidInfoClass)
	}
	single := r.Flags&smb2.QueryDirReturnSingleEntry != 0
	added := 0
	full := false
	eaer, _ := vfs.As[vfs.EAer](o.share.cfg.FS)
	withEA := eaer != nil && r.FileInformationClass != fscc.FileDirectoryInformation &&
		r.FileInformationClass != fscc.FileNamesInformation
	add := func(name string, fi fs.FileInfo) bool {
		short := ""
		if both {
			short = shortOf(name)
		}
		e := dirEntry(name, fi, short)
		if withEA {
			// EaSize as FileEaInformation reports it (MS-FSCC 2.4.17).
			p := o.name
			if name != "." {
				p = path.Join(o.name, name)
			}
			if name == ".." {
				p, _ = splitParent(o.name)
			}
			list, known := []vfs.EA(nil), false
			if ei, ok := fi.(vfs.EAInfo); ok && name != "." && name != ".." {
				list, known = ei.ExtendedAttributes() // read with the entry (Dir)
			}
			if !known {
				list, _ = eaer.EAs(ctx, p)
			}
			if len(list) > 0 {
				e.EaSize = fscc.EaSize(fsccEAs(list))
			}
		}
		if !fi.IsDir() && name != "." && name != ".." {
			if sp := o.share.sparseAttr(ctx, path.Join(o.name, name)); sp != 0 {
				e.FileAttributes = e.FileAttributes&^fscc.FileAttributeNormal | sp
			}
		}
		if !w.Add(&e) {
			full = true
			return false
		}
		added++
		return !single
	}
	// "." and ".." first, as Windows and Samba list them.
	for d.dotDone < 2 && !full {
		name := "."
		if d.dotDone == 1 {
			name = ".."
		}
		if !fscc.MatchPattern(d.pattern, name) {
			d.dotDone++
			continue
		}
		fi, err := o.share.cfg.FS.Stat(ctx, o.name)
		if err != nil {
			return statusResponse(statusOf(err))
		}
		if !add(name, fi) {
			if !full {
				d.dotDone++
			}
			break
		}
		d.dotDone++
	}
	for !full && d.next < len(d.entries) && (!single || added == 0) {
		fi := d.entries[d.next]
		if !fscc.MatchPattern(d.pattern, fi.Name()) && !matchShort(d.pattern, shortOf(fi.Name())) {
			d.next++
			continue
		}
		if !add(fi.Name(), fi) {
			if !full {
				d.next++
				d.last, d.started = fi.Name(), true
			}
			break
		}
		d.last, d.started = fi.Name(), true
		d.next++
	}
	if added == 0 {
		switch {
		case full:
			return statusResponse(smb2.StatusInfoLengthMismatch)
		case first:
			return statusResponse(smb2.StatusNoSuchFile)
		default:
			return statusResponse(smb2.StatusNoMoreFiles)
		}
	}
	return ok(&smb2.QueryDirectoryResponse{Buffer: w.Bytes()})
}

// dirEntry describes fi under name, whose short name is short ("" when
// the name is its own), for QUERY_DIRECTORY.
func dirEntry(name string, fi fs.FileInfo, short string) fscc.DirEntry {
	m := metaOf(fi)
	if name == "." || name == ".." {
		m.attrs &^= fscc.FileAttributeHidden
	}
	e := fscc.DirEntry{
		Name:           name,
		CreationTime:   m.creation,
		LastAccessTime: m.access,
		LastWriteTime:  m.write,
		ChangeTime:     m.change,
		EndOfFile:      m.size,
		AllocationSize: m.alloc,
		FileAttributes: m.attrs,
		FileID:         m.id,
	}
	if name != "." && name != ".." {
		e.ShortName = short
	}
	return e
}

// matchShort reports whether a file's short name (none: "") matches
// pattern: a search matches short names too (MS-FSA 2.1.5.6.3).
func matchShort(pattern, short string) bool {
	return short != "" && fscc.MatchPattern(pattern, short)
}

// sortDirEntries orders a listing as dirKeyLess does, upper-casing each
// name once rather than at every comparison.
func sortDirEntries(list []fs.FileInfo) {
	keys := make([]string, len(list))
	idx := make([]int, len(list))
	for i, fi := range list {
		keys[i], idx[i] = strings.ToUpper(fi.Name()), i
	}
	sort.Slice(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if keys[i] != keys[j] {
			return keys[i] < keys[j]
		}
		return list[i].Name() < list[j].Name()
	})
	sorted := make([]fs.FileInfo, len(list))
	for k, i := range idx {
		sorted[k] = list[i]
	}
	copy(list, sorted)
}

// dirKeyLess orders names as an NTFS index does: by upper-cased name.
func dirKeyLess(a, b string) bool {
	ua, ub := strings.ToUpper(a), strings.ToUpper(b)
	if ua != ub {
		return ua < ub
	}
	return a < b
}

// equalFold compares names as Windows does.
func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
