//go:build linux

package vfs

import (
	"io/fs"
	"syscall"
	"time"
)

func sysTimes(fi fs.FileInfo, t *Times) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	t.Access = time.Unix(st.Atim.Sec, st.Atim.Nsec)
	t.Change = time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	// Linux stat has no birth time; the oldest known time stands in.
	t.Birth = t.Modify
	if t.Change.Before(t.Birth) {
		t.Birth = t.Change
	}
}

func sysFileID(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

func sysLinks(fi fs.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint32(st.Nlink)
	}
	return 0
}
