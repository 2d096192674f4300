package smb

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// dirEnum is the enumeration state of a directory open (MS-SMB2 3.3.1.10:
// Open.EnumerationLocation and Open.EnumerationSearchPattern). Its position
// is the backend's cursor after the last entry returned (vfs.DirPager):
// each call reads on from there, so it costs the entries it returns (and
// those the pattern skips), not the size of the directory; entries removed
// meanwhile are not returned, and entries added after the position are,
// as far as the backend's order allows.
type dirEnum struct {
	pattern string
	exact   bool   // the pattern has no wildcard: one lookup, not a listing
	cursor  string // the backend's position; "" before the first entry
	done    bool   // exact: the lookup was made
	dotDone int    // "." and ".." already returned (0, 1, 2)
}

// maxDirPage bounds the entries asked of the backend at once.
const maxDirPage = 1024

// queryDirectory enumerates a directory (MS-SMB2 3.3.5.18). Each call
// returns as many entries as fit in the client's buffer, read from the
// backend a page at a time from the enumeration's position.
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
	sh := o.share
	fsys := sh.cfg.FS
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
		o.dir = &dirEnum{pattern: pattern, exact: !strings.ContainsAny(pattern, `*?<>"`)}
	}
	d := o.dir

	// Short names, where the class shows them or the pattern may name one
	// (MS-FSA 2.1.5.6.3 matches a file's short name too): from the
	// directory's index (name_index.go), checked against the directory at
	// the start of an enumeration.
	shortOf := func(string) string { return "" }
	both := r.FileInformationClass == fscc.FileBothDirectoryInformation ||
		r.FileInformationClass == fscc.FileIdBothDirectoryInformation
	if both || !d.exact && d.pattern != "*" && d.pattern != "*.*" {
		if first {
			sh.revalidate(ctx, o.name)
		}
		if tab := sh.dirIndex(ctx, o.name); tab != nil {
			shortOf = func(name string) string { return sh.listedShort(tab, o.name, name) }
		}
	}

	// The entries are written into a pooled buffer that the response
	// sends as its Data, without a copy (released once written).
	buf, release := getBuf(int(r.OutputBufferLength))
	sent := false
	defer func() {
		if !sent {
			release()
		}
	}()
	w, err := fscc.NewDirWriter(r.FileInformationClass, buf)
	if err != nil {
		return statusResponse(smb2.StatusInvalidInfoClass)
	}
	single := r.Flags&smb2.QueryDirReturnSingleEntry != 0
	added := 0
	full := false
	eaer, _ := vfs.As[vfs.EAer](fsys)
	withEA := eaer != nil && r.FileInformationClass != fscc.FileDirectoryInformation &&
		r.FileInformationClass != fscc.FileNamesInformation
	add := func(name string, fi fs.FileInfo) bool {
		short := ""
		if both {
			short = shortOf(name)
		}
		e := dirEntry(name, fi, short)
		if sh.isDFSRoot(s) {
			sh.dfsDirEntry(ctx, s, path.Join(o.name, name), fi, &e) // a DFS link (dfs.go)
		}
		e.FileAttributes = sh.hiddenAttrs(name, fi, e.FileAttributes) // hide files (share_policy.go)
		if withEA {
			// EaSize as FileEaInformation reports it (MS-FSCC 2.4.17).
			list, known := []vfs.EA(nil), false
			if ei, ok := fi.(vfs.EAInfo); ok && name != "." && name != ".." {
				list, known = ei.ExtendedAttributes() // read with the entry (Dir)
			}
			if !known {
				p := o.name
				if name != "." {
					p = path.Join(o.name, name)
				}
				if name == ".." {
					p, _ = splitParent(o.name)
				}
				list, _ = eaer.EAs(ctx, p)
			}
			if len(list) > 0 {
				e.EaSize = fscc.EaSize(fsccEAs(list))
			}
		}
		if !fi.IsDir() && name != "." && name != ".." && sh.sparseMarked.Load() {
			if sp := sh.sparseAttr(ctx, path.Join(o.name, name)); sp != 0 {
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
		fi, err := fsys.Stat(ctx, o.name)
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
	switch {
	case full || single && added > 0:
	case d.exact:
		// One name, looked up as a CREATE would: no listing.
		if !d.done && d.pattern != "." && d.pattern != ".." {
			if name, fi := sh.lookupEntry(ctx, o.name, d.pattern); fi != nil && !sh.vetoed(name) {
				if add(name, fi) || !full {
					d.done = true
				}
			} else {
				d.done = true
			}
		}
	default:
	pages:
		for !full && (!single || added == 0) {
			// As many entries as may still fit (an entry takes about 96
			// bytes), so that a call reads about what it returns.
			pageSize := min(maxDirPage, (int(r.OutputBufferLength)-w.Len())/96+1)
			if single && (d.pattern == "*" || d.pattern == "*.*") {
				pageSize = 1
			} else if d.pattern != "*" && d.pattern != "*.*" {
				pageSize = max(pageSize, 64) // the pattern skips some
			}
			page, err := vfs.ReadDirPage(ctx, fsys, o.name, d.cursor, pageSize)
			eof := errors.Is(err, io.EOF)
			if err != nil && !eof {
				if added > 0 {
					break
				}
				return statusResponse(statusOf(err))
			}
			for _, e := range page {
				name := e.Info.Name()
				if o.share.vetoed(name) || // veto files (share_policy.go)
					!fscc.MatchPattern(d.pattern, name) && !matchShort(d.pattern, shortOf(name)) {
					d.cursor = e.Cursor
					continue
				}
				if !add(name, e.Info) {
					if !full {
						d.cursor = e.Cursor // the single entry asked for
					}
					break pages
				}
				d.cursor = e.Cursor
			}
			if eof || len(page) == 0 {
				break // an empty page that is not the end would loop
			}
		}
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
	sent = true
	return &Response{Body: bufferResponseBody(w.Len()), Data: w.Bytes(), Release: release}
}

// bufferResponseBody is the fixed part of a response whose buffer of n
// bytes follows it (smb2.BufferResponse: QUERY_DIRECTORY, MS-SMB2 2.2.34),
// sent as the Response's Data.
func bufferResponseBody(n int) []byte {
	b := make([]byte, 8)
	(&smb2.BufferResponse{}).Encode(b)
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	return b
}

// lookupEntry finds the entry of dir that a pattern without wildcards
// names: its name as spelled, another case of it, or a short name.
func (sh *shareState) lookupEntry(ctx context.Context, dir, name string) (string, fs.FileInfo) {
	if strings.ContainsAny(name, `/\:`) {
		return "", nil
	}
	if fi, err := sh.cfg.FS.Stat(ctx, path.Join(dir, name)); err == nil {
		return fi.Name(), fi
	}
	if !sh.caseInsensitive {
		if found, fi := sh.lookupFold(ctx, dir, name); found != "" {
			return found, fi
		}
	}
	return sh.longName(ctx, dir, name) // name_short.go
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
