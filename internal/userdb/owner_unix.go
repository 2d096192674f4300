//go:build unix

package userdb

import (
	"io/fs"
	"os"
	"syscall"
)

// keepOwner gives f the owner and group of old, where the caller may (a
// failure leaves f the caller's).
func keepOwner(f *os.File, old fs.FileInfo) {
	if st, ok := old.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(st.Uid), int(st.Gid))
	}
}
