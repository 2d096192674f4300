package vfs

import "io"

// ChangeOp says what happened to a name a Watcher reports.
type ChangeOp uint8

// What a Change reports.
const (
	ChangeAdded       ChangeOp = iota + 1 // the name appeared
	ChangeRemoved                         // the name went away
	ChangeModified                        // the file's data or metadata changed
	ChangeRenamedFrom                     // the old name of a rename; ChangeRenamedTo follows
	ChangeRenamedTo                       // the new name of a rename, in the same directory
	ChangeOverflow                        // changes were lost: re-read what matters
)

// Change is one change made to a backend's tree by someone other than the
// server (another program, a local user).
type Change struct {
	Op    ChangeOp
	Name  string // slash-separated, relative to the root; "" for ChangeOverflow
	IsDir bool
	Meta  bool // ChangeModified: metadata (attributes, times, xattrs), not data
}

// Watcher is implemented by backends whose files others may change behind
// the server's back and that can report those changes (Dir on Linux, with
// inotify). The server uses it for CHANGE_NOTIFY.
//
// Watch starts reporting changes anywhere under the root to fn, in batches,
// from one goroutine, until the returned Closer is closed; Close waits for
// that goroutine. Reporting is best effort: a rename across directories is
// a removal and an addition, and what cannot be followed (too many
// directories, a full queue) is a ChangeOverflow.
type Watcher interface {
	Watch(fn func([]Change)) (io.Closer, error)
}
