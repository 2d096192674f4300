//go:build linux

package vfs

import (
	"context"
	"errors"
	"io/fs"

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
	if h, base, ok, err := d.parentAt(name); ok {
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		defer h.release()
		sd, err := readSD(func(buf []byte) (int, error) { return lgetxattrAt(h.fd, base, sdXattr, buf) })
		if err != nil {
			return nil, &fs.PathError{Op: "getxattr", Path: name, Err: err}
		}
		return sd, nil
	}
	f, err := d.root.OpenFile(name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := fdPath(f.Fd())
	return readSD(func(buf []byte) (int, error) { return unix.Getxattr(p, sdXattr, buf) })
}

// readSD reads a stored descriptor with get, a getxattr of sdXattr.
func readSD(get func([]byte) (int, error)) ([]byte, error) {
	// Most descriptors are a few hundred bytes: try a small buffer first
	// (on the heap, as lgetxattrAt needs: it is returned).
	buf := make([]byte, 512)
	n, err := get(buf)
	if errors.Is(err, unix.ERANGE) {
		buf = make([]byte, maxSD)
		n, err = get(buf)
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
