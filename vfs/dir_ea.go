//go:build linux

package vfs

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// eaPrefix is the xattr namespace Dir keeps SMB extended attributes in.
const eaPrefix = "user.smb_ea."

// EAs returns the extended attributes of name, kept as xattrs.
func (d *DirFS) EAs(ctx context.Context, name string) ([]EA, error) {
	f, err := d.root.OpenFile(name, unix.O_PATH, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readEAsAt(fdPath(f.Fd()))
}

// readEAsAt reads the EAs of the file at p (the fdPath of an open, O_PATH
// enough), sizing its buffers by the lists the kernel returns. A file
// system without xattrs has none.
func readEAsAt(p string) ([]EA, error) {
	names, err := listXattrs(p, true)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	return readEAs(p, names, true), nil
}

// listXattrs returns the NUL-separated xattr names of the file at p (nil
// when a file system has no xattrs), following a final symbolic link or
// not. One listxattr when the names fit a small buffer (a file of Dir's
// usually has one, attrsXattr), else one to size the list and one to read
// it.
func listXattrs(p string, follow bool) ([]byte, error) {
	list := unix.Listxattr
	if !follow {
		list = unix.Llistxattr
	}
	var small [256]byte
	n, err := list(p, small[:])
	if err == nil {
		return bytes.Clone(small[:n]), nil
	}
	for errors.Is(err, unix.ERANGE) {
		if n, err = list(p, nil); err != nil {
			break
		}
		buf := make([]byte, n)
		if n, err = list(p, buf); err == nil {
			return buf[:n], nil
		}
	}
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	return nil, err
}

// readEAs reads the EAs among the xattr names of the file at p.
func readEAs(p string, names []byte, follow bool) []EA {
	get := unix.Getxattr
	if !follow {
		get = unix.Lgetxattr
	}
	var out []EA
	for attr := range strings.SplitSeq(string(names), "\x00") {
		if !strings.HasPrefix(attr, eaPrefix) {
			continue
		}
		sz, err := get(p, attr, nil)
		if err != nil {
			continue
		}
		v := make([]byte, sz)
		if sz, err = get(p, attr, v); err != nil {
			continue
		}
		out = append(out, EA{Name: attr[len(eaPrefix):], Value: v[:sz]})
	}
	return out
}

// xattrsWithPrefix lists the xattr names of fd that start with prefix; a
// file system without xattrs has none.
func xattrsWithPrefix(fd int, prefix string) ([]string, error) {
	buf := make([]byte, 64<<10)
	n, err := unix.Flistxattr(fd, buf)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, attr := range strings.Split(string(buf[:n]), "\x00") {
		if strings.HasPrefix(attr, prefix) {
			out = append(out, attr)
		}
	}
	return out, nil
}

// SetEA sets or (with an empty value) removes one extended attribute.
func (d *DirFS) SetEA(ctx context.Context, name string, ea EA) error {
	f, err := d.root.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	attr := eaPrefix + strings.ToUpper(ea.Name)
	if len(ea.Value) == 0 {
		if err := unix.Fremovexattr(fd, attr); err != nil && !errors.Is(err, unix.ENODATA) {
			return err
		}
		return nil
	}
	return unix.Fsetxattr(fd, attr, ea.Value, 0)
}
