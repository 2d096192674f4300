//go:build !linux

package vfs

import (
	"errors"
	"io"
)

// Watch is not available on this system: changes made outside the server
// are not reported.
func (d *DirFS) Watch(fn func([]Change)) (io.Closer, error) {
	return nil, errors.ErrUnsupported
}
