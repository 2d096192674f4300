package vfs

import "time"

// ModTimeSetter is implemented by open files that can set their file's
// modification time through the handle, which is cheaper than
// FS.Chtimes by name (the server puts back a last-write time after writes
// whose update Windows defers).
type ModTimeSetter interface {
	SetModTime(mtime time.Time) error
}
