//go:build !unix

package userdb

import (
	"io/fs"
	"os"
)

// keepOwner does nothing where files have no Unix owner.
func keepOwner(f *os.File, old fs.FileInfo) {}
