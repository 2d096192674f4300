//go:build !linux

package vfs

import "errors"

func osPunchHole(f File, off, n int64) error { return errors.ErrUnsupported }

func osDataRanges(f File, off, n int64, max int) ([]Range, error) {
	return nil, errors.ErrUnsupported
}
