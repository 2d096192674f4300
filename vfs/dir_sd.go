//go:build linux

package vfs

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"
)

// sdXattr is the extended attribute Dir keeps a file's security
// descriptor in, outside the EA and stream namespaces.
const sdXattr = "user.smb_sd"

// maxSD bounds a stored descriptor: two ACLs of at most 64 KiB and the
// header and SIDs.
const maxSD = 2<<16 + 1024

// SecurityDescriptor returns the descriptor stored for name (SDStore).
func (d *DirFS) SecurityDescriptor(ctx context.Context, name string) ([]byte, error) {
	f, err := d.root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := fdPath(f.Fd())
	// Most descriptors are a few hundred bytes: try a small buffer first.
	buf := make([]byte, 512)
	n, err := unix.Getxattr(p, sdXattr, buf)
	if errors.Is(err, unix.ERANGE) {
		buf = make([]byte, maxSD)
		n, err = unix.Getxattr(p, sdXattr, buf)
	}
	if err != nil {
		if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, err
	}
	return buf[:n:n], nil
}

// SetSecurityDescriptor stores sd for name (SDStore).
func (d *DirFS) SetSecurityDescriptor(ctx context.Context, name string, sd []byte) error {
	f, err := d.root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Setxattr(fdPath(f.Fd()), sdXattr, sd, 0); err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return errors.ErrUnsupported
		}
		return err
	}
	return nil
}
