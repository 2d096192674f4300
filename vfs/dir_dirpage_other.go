//go:build !linux

package vfs

import "context"

// ReadDirPage lists up to n entries of a directory after the cursor after
// (DirPager). Outside Linux the directory is listed whole and sorted for
// each page.
func (d *DirFS) ReadDirPage(ctx context.Context, name, after string, n int) ([]DirEntry, error) {
	return readDirPageSorted(ctx, d, name, after, n)
}
