package vfs

import "context"

// Readlinker is implemented by backends that keep symbolic links and read
// their targets. cifsd never follows them; a DFS root (smb.Share.DFSRoot)
// reads its links from them, as Samba stores them ("msdfs:HOST\SHARE").
type Readlinker interface {
	// Readlink returns the target of the symbolic link name, unresolved.
	Readlink(ctx context.Context, name string) (string, error)
}

// Readlink returns the target of a symbolic link in the directory.
func (d *DirFS) Readlink(ctx context.Context, name string) (string, error) {
	return d.root.Readlink(name)
}
