package vfs

import (
	"context"
	"io"
	"io/fs"
	"sort"
)

// DirEntry is one entry of a page of a directory listing.
type DirEntry struct {
	Info fs.FileInfo
	// Cursor resumes the listing after this entry: pass it as after to
	// ReadDirPage. It is opaque to the caller.
	Cursor string
}

// DirPager is implemented by backends that list a directory a page at a
// time (an object store's listing with a continuation token, getdents
// with a directory offset). The server reads a QUERY_DIRECTORY's entries
// with it, so that a call costs the entries it returns, not the size of
// the directory.
//
// ReadDirPage returns up to n entries (n > 0) of the directory name that
// follow the position after, in the backend's order, without "." and "..".
// after is "" for the start of the directory or the Cursor of an entry an
// earlier call returned, even one since removed. Entries added or removed
// meanwhile may or may not be seen, but no entry still present is returned
// twice or skipped. A page may hold fewer than n entries before the end; at
// the end ReadDirPage returns io.EOF, with the last entries or none.
type DirPager interface {
	ReadDirPage(ctx context.Context, name, after string, n int) ([]DirEntry, error)
}

// ReadDirPage reads a page of the directory name through fsys's DirPager
// (found with As). A backend without one is listed whole with ReadDir and
// sorted by name, whose last returned name is the cursor: that costs the
// size of the directory at every page.
func ReadDirPage(ctx context.Context, fsys FS, name, after string, n int) ([]DirEntry, error) {
	if p, ok := As[DirPager](fsys); ok {
		return p.ReadDirPage(ctx, name, after, n)
	}
	return readDirPageSorted(ctx, fsys, name, after, n)
}

// readDirPageSorted pages through a whole listing of name sorted by name.
func readDirPageSorted(ctx context.Context, fsys FS, name, after string, n int) ([]DirEntry, error) {
	list, err := fsys.ReadDir(ctx, name)
	if err != nil {
		return nil, err
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
	i := 0
	if after != "" {
		i = sort.Search(len(list), func(i int) bool { return list[i].Name() > after })
	}
	var out []DirEntry
	for ; i < len(list) && len(out) < n; i++ {
		out = append(out, DirEntry{Info: list[i], Cursor: list[i].Name()})
	}
	if i == len(list) {
		return out, io.EOF
	}
	return out, nil
}
