package smb

import (
	"sync"
	"sync/atomic"

	"github.com/cifsd/cifsd/vfs"
)

// shareState is a share as the server runs it: its configuration and the
// table of open files that share modes and delete-on-close work on.
type shareState struct {
	cfg             *Share
	ipc             bool
	caseInsensitive bool
	sparseMarked    atomic.Bool  // FSCTL_SET_SPARSE was used on the share (fsctl_sparse.go)
	watch           watchers     // directory opens awaiting changes (notify_changes.go)
	dirLeases       atomic.Int32 // directory leases held (lease_dir.go)
	names           nameIndex    // names and 8.3 names, per directory (name_index.go)
	treeCount       treeCount    // tree connects, for MaxConnections (share_policy.go)

	// mu guards the in-memory state of the share's files; it is never
	// held across a backend call (name_lock.go).
	// store is the state store the share's files are kept in: the
	// server's (Server.state), a memState of its own for the IPC$ share
	// and tests.
	store stateStore

	mu       sync.Mutex
	files    map[string]*fileNode   // by foldKey of the backend name
	streams  map[string][]*fileNode // the named-stream nodes in files, by their file's key (stream.go)
	reserved map[string]*nameRes    // names reserved by operations in progress (name_lock.go)
}

func newShareState(cfg *Share) *shareState {
	sh := &shareState{cfg: cfg, ipc: cfg.FS == nil, store: &memState{}, files: make(map[string]*fileNode)}
	if ci, ok := vfs.As[vfs.CaseInsensitiver](cfg.FS); ok && ci.CaseInsensitive() {
		sh.caseInsensitive = true
	}
	return sh
}

// Tree is a tree connect: a session's connection to one share
// (MS-SMB2 3.3.1.10).
type Tree struct {
	// ID is the TreeId on the wire.
	ID uint32
	// Share is the share's configuration.
	Share *Share

	share    *shareState
	session  *Session
	readOnly bool
	encrypt  bool
}

// disconnect closes the tree's opens.
func (t *Tree) disconnect() {
	t.share.release(t) // share_policy.go
	s := t.session
	for _, o := range s.srv.state.TakeTreeOpens(s, t) {
		o.close()
	}
}
