//go:build linux

package vfs

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"
)

// sparseAttr is the xattr Dir marks sparse files with (FSCTL_SET_SPARSE,
// MS-FSCC 2.3.64). It is outside the EA and stream namespaces, so clients
// never see it as either.
const sparseAttr = "user.smb_sparse"

// SetSparse marks or unmarks name as sparse.
func (d *DirFS) SetSparse(ctx context.Context, name string, sparse bool) error {
	f, err := d.root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	if !sparse {
		if err := unix.Fremovexattr(fd, sparseAttr); err != nil && !errors.Is(err, unix.ENODATA) {
			return err
		}
		return nil
	}
	return unix.Fsetxattr(fd, sparseAttr, []byte{1}, 0)
}

// Sparse reports whether name is marked sparse.
func (d *DirFS) Sparse(ctx context.Context, name string) (bool, error) {
	f, err := d.root.Open(name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var b [1]byte
	n, err := unix.Fgetxattr(int(f.Fd()), sparseAttr, b[:])
	if err != nil {
		if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
			return false, nil
		}
		return false, err
	}
	return n == 1 && b[0] != 0, nil
}
