package vfs

import (
	"context"
	"errors"
)

// Sparse files: the optional interfaces behind FSCTL_SET_SPARSE,
// FSCTL_SET_ZERO_DATA and FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC 2.3.64,
// 2.3.67, 2.3.51). A backend without them still serves those requests: the
// server writes zeros instead of deallocating and reports a file's whole
// extent as allocated.

// Range is a byte range of a file.
type Range struct {
	Off, Len int64
}

// Sparser is implemented by backends that record whether a file is marked
// sparse (the NTFS FILE_ATTRIBUTE_SPARSE_FILE bit), so the mark outlives the
// handle that set it.
type Sparser interface {
	// SetSparse marks or unmarks the regular file name.
	SetSparse(ctx context.Context, name string, sparse bool) error
	// Sparse reports whether name is marked; a missing mark is false.
	Sparse(ctx context.Context, name string) (bool, error)
}

// HolePuncher is a File that can deallocate a range: afterwards the range
// reads as zeros and the file's size is unchanged.
type HolePuncher interface {
	PunchHole(off, n int64) error
}

// DataRanger is a File that knows which of its ranges hold data (are
// allocated), as SEEK_DATA and SEEK_HOLE tell on POSIX systems.
type DataRanger interface {
	// DataRanges returns, in order, at most max ranges holding data within
	// [off, off+n), clipped to that window.
	DataRanges(off, n int64, max int) ([]Range, error)
}

// PunchHole deallocates [off, off+n) of f, through f's own HolePuncher or,
// for an OS file, the system call. It fails with errors.ErrUnsupported when
// neither can: the caller then writes zeros.
func PunchHole(f File, off, n int64) error {
	if off < 0 || n < 0 {
		return errors.ErrUnsupported
	}
	if n == 0 {
		return nil
	}
	if p, ok := f.(HolePuncher); ok {
		return p.PunchHole(off, n)
	}
	return osPunchHole(f, off, n)
}

// DataRanges returns the ranges of f holding data within [off, off+n), at
// most max of them, through f's own DataRanger or, for an OS file,
// SEEK_DATA/SEEK_HOLE. known is false when f cannot tell: the caller then
// treats the whole file as allocated.
func DataRanges(f File, off, n int64, max int) (ranges []Range, known bool, err error) {
	if off < 0 || n <= 0 || max <= 0 {
		return nil, true, nil
	}
	if d, ok := f.(DataRanger); ok {
		r, err := d.DataRanges(off, n, max)
		return r, true, err
	}
	r, err := osDataRanges(f, off, n, max)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, false, nil
	}
	return r, err == nil, err
}
