//go:build linux

package vfs

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// rawFile is an OS file (*os.File) whose descriptor can be used without
// changing its blocking mode.
func rawFile(f File) (syscall.RawConn, bool) {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return nil, false
	}
	rc, err := sc.SyscallConn()
	return rc, err == nil
}

// osPunchHole deallocates a range with fallocate(PUNCH_HOLE|KEEP_SIZE).
func osPunchHole(f File, off, n int64) error {
	rc, ok := rawFile(f)
	if !ok {
		return errors.ErrUnsupported
	}
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		err = unix.Fallocate(int(fd), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
	}); cerr != nil {
		return cerr
	}
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		return errors.ErrUnsupported
	}
	return err
}

// osDataRanges walks the data ranges with lseek(SEEK_DATA/SEEK_HOLE). Only
// the file offset of the descriptor moves, and the server never uses it
// (all I/O is positional).
func osDataRanges(f File, off, n int64, max int) ([]Range, error) {
	rc, ok := rawFile(f)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	end := off + n
	if end < off {
		end = 1<<63 - 1
	}
	var out []Range
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		pos := off
		for pos < end && len(out) < max {
			data, e := unix.Seek(int(fd), pos, unix.SEEK_DATA)
			if e != nil {
				if !errors.Is(e, unix.ENXIO) { // ENXIO: no data after pos
					err = e
				}
				return
			}
			if data >= end {
				return
			}
			hole, e := unix.Seek(int(fd), data, unix.SEEK_HOLE)
			if e != nil {
				err = e
				return
			}
			out = append(out, Range{Off: data, Len: min(hole, end) - data})
			pos = hole
		}
	}); cerr != nil {
		return nil, cerr
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
		return nil, errors.ErrUnsupported
	}
	return out, err
}
