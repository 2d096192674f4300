//go:build linux

package vfs

import (
	"time"

	"golang.org/x/sys/unix"
)

// SetModTime sets the file's modification time with nanosecond precision,
// leaving the access time (ModTimeSetter).
func (f dirFile) SetModTime(mtime time.Time) error {
	ts := []unix.Timespec{
		{Nsec: unix.UTIME_OMIT},
		{Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())},
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(f.Fd()), ts, 0)
}
