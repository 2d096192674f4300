package smb

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/cifsd/cifsd/rpc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// fileNode is the server's state of one file or directory that has opens:
// the opens (for share modes) and whether it is to be deleted. Nodes live in
// shareState.files while they have opens.
type fileNode struct {
	key           string // foldKey(name)
	name          string // backend name
	stream        string // named stream, "" for the file itself
	opens         []*Open
	deletePending bool
	locks         []byteLock
	lockWait      chan struct{} // closed when locks are released
	// alloc is the allocation a client asked for beyond the data
	// (FileAllocationInformation, the AlSi create context), in bytes,
	// a multiple of allocUnit; it lasts while the file has opens (info_alloc.go).
	alloc int64

	// Counts kept under sh.mu and read without it by READ and WRITE, so
	// that I/O on a file nobody locks or caches takes no share lock.
	numLocks atomic.Int32 // len(locks)
	cachers  atomic.Int32 // opens granted an oplock or a lease
}

// addOpenLocked adds o to n's opens. The caller holds sh.mu.
func (n *fileNode) addOpenLocked(o *Open) {
	n.opens = append(n.opens, o)
	if o.oplock != 0 || o.lease != nil {
		o.cacher = true
		n.cachers.Add(1)
	}
}

// removeOpenLocked takes o out of n's opens. The caller holds sh.mu.
func (n *fileNode) removeOpenLocked(o *Open) {
	for i, x := range n.opens {
		if x == o {
			n.opens = append(n.opens[:i], n.opens[i+1:]...)
			if o.cacher {
				n.cachers.Add(-1)
			}
			return
		}
	}
}

// setLocksLocked replaces n's byte-range locks. The caller holds sh.mu.
func (n *fileNode) setLocksLocked(l []byteLock) {
	n.locks = l
	n.numLocks.Store(int32(len(l)))
}

// Open is an open file, directory or pipe (MS-SMB2 3.3.1.10 Open).
type Open struct {
	id      smb2.FileID
	session *Session
	tree    *Tree
	share   *shareState

	// uses are the requests in line for the handle, or on it: shared for
	// most, exclusive for CLOSE, SET_INFO, FLUSH, CHANGE_NOTIFY (conn_order.go).
	uses useQueue

	mu            sync.Mutex
	node          *fileNode // nil for pipes
	name          string    // backend name, "." for the share root
	stream        string    // named stream open, "" for the file itself
	isDir         bool
	file          vfs.File // nil for directories and pipes, and until first needed for a stat open
	statOpen      bool     // a file opened without data access: file is opened lazily (open_data.go)
	pipe          *rpc.Pipe
	access        uint32 // granted access mask
	shareAccess   uint32
	createOptions uint32
	deleteOnClose bool
	position      int64 // FilePositionInformation
	mode          uint32
	dir           *dirEnum // QUERY_DIRECTORY state
	isClosed      bool
	notifies      []*asyncOp // pending CHANGE_NOTIFY requests
	watch         *dirWatch  // changes buffered since the first CHANGE_NOTIFY
	resumeSecret  []byte     // random part of the copychunk resume key (fsctl_copychunk.go)

	// Oplock state, under share.mu.
	oplock       uint8         // granted level
	oplockBroken chan struct{} // a break is pending; closed when it ends
	breakTo      uint8         // the level the pending break goes to
	oplockWant   uint8         // the level later breaks require (<= breakTo)
	lease        *lease        // the lease the open is under (MS-SMB2 3.3.1.10 Open.Lease)
	cacher       bool          // counted in node.cachers; fixed once published
	dirOwner     leaseOwner    // the ParentLeaseKey it was created with (lease_dir.go); fixed
	written      bool          // data was written: last-write time is set at close

	// Durable handle state (open_durable.go), under share.mu.
	durable *durableState               // nil unless Open.IsDurable
	replay  atomic.Pointer[replayState] // how a replay of the CREATE is answered (create_replay.go)

	channelSeq uint16        // Open.ChannelSequence (create_replay.go), under mu
	lockSeq    lockSequences // Open.LockSequenceArray (io_lock.go), under share.mu
	wtime      *writeTime    // delayed last-write-time update (io_writetime.go), under mu
	userSet    userSetTimes  // times the client set or froze (info_attrs.go), under mu

	// Open.AppInstanceId (create_appinstance.go) and the ClientGuid of the
	// connection that made the open, set before it is published.
	appInstance    [16]byte
	hasAppInstance bool
	appClient      [16]byte
}

// data-access bits that take part in share-mode checks (MS-FSA 2.1.5.1.2).
const (
	accessReadish   = smb2.FileReadData | smb2.FileExecute
	accessWriteish  = smb2.FileWriteData | smb2.FileAppendData
	accessShareable = accessReadish | accessWriteish | smb2.Delete
)

// shareConflict reports whether an open asking for access with shareAccess
// conflicts with the existing opens of n but except (MS-FSA 2.1.5.1.2.1).
func (n *fileNode) shareConflict(except *Open, access, shareAccess uint32) bool {
	if access&accessShareable == 0 {
		return false
	}
	for _, o := range n.opens {
		if o == except || o.access&accessShareable == 0 {
			continue
		}
		if access&accessReadish != 0 && o.shareAccess&smb2.FileShareRead == 0 ||
			access&accessWriteish != 0 && o.shareAccess&smb2.FileShareWrite == 0 ||
			access&smb2.Delete != 0 && o.shareAccess&smb2.FileShareDelete == 0 ||
			o.access&accessReadish != 0 && shareAccess&smb2.FileShareRead == 0 ||
			o.access&accessWriteish != 0 && shareAccess&smb2.FileShareWrite == 0 ||
			o.access&smb2.Delete != 0 && shareAccess&smb2.FileShareDelete == 0 {
			return true
		}
	}
	return false
}

// addOpen gives o its file id and registers it on the session
// (sessionOpenStore, state_sessions.go).
func (s *Session) addOpen(o *Open) {
	id := s.srv.nextID.Add(1)
	o.id = smb2.FileID{Persistent: id, Volatile: id}
	s.srv.state.AddOpen(s, o)
}

// lookupOpen finds an open of the session by file id.
func (s *Session) lookupOpen(id smb2.FileID) *Open { return s.srv.state.LookupOpen(s, id) }

// removeOpen takes o out of the session's table.
func (s *Session) removeOpen(o *Open) { s.srv.state.RemoveOpen(s, o) }

// close releases the open: the backend file, the share-mode entry and, when
// this was the last open of a file to delete, the file itself.
func (o *Open) close() error {
	o.closeWriteTime(context.Background()) // io_writetime.go; done already by CLOSE
	f, p, ok := o.markClosed()
	if !ok {
		return nil
	}
	err := closeBackend(f, p)
	if o.node == nil {
		return err
	}
	sh := o.share
	// A close that deletes the file reserves its name first, so the
	// delete cannot fall between another operation's decision on the
	// name and its backend call (name_lock.go).
	sh.mu.Lock()
	deleting, base := o.deleteOnClose || sh.store.IsDeletePendingLocked(o.node), o.node.name
	if !deleting && o.node.stream != "" {
		deleting = sh.store.DeletePendingLocked(sh, base)
	}
	sh.mu.Unlock()
	var res *reservation
	if deleting {
		res, _ = sh.store.ReserveNames(context.Background(), sh, "", base)
	}
	sh.mu.Lock()
	finish := o.releaseLocked()
	sh.mu.Unlock()
	if rerr := finish(); rerr != nil && err == nil {
		err = rerr
	}
	res.release()
	o.mu.Lock()
	written, name := o.written, o.name
	o.mu.Unlock()
	if written {
		// The last-write time and size a listing shows are final now
		// (lease_dir.go).
		sh.breakParentLeases(o.dirOwner, name)
	}
	o.noteDirClosed() // CHANGE_NOTIFY (notify_modify.go)
	return err
}

// closeLocked closes o as the server does on its own (MS-SMB2 3.3.4.17)
// while the caller holds sh.mu: it returns the rest of the work, to run
// once sh.mu is released, or nil when o was closed already.
func (o *Open) closeLocked() func() {
	f, p, ok := o.markClosed()
	if !ok {
		return nil
	}
	finish := o.releaseLocked()
	return func() {
		closeBackend(f, p)
		finish()
	}
}

// markClosed marks o closed and ends its pending CHANGE_NOTIFY requests;
// it returns what is to be closed, and false when o was closed already.
func (o *Open) markClosed() (vfs.File, *rpc.Pipe, bool) {
	o.mu.Lock()
	if o.isClosed {
		o.mu.Unlock()
		return nil, nil, false
	}
	o.isClosed = true
	f, p := o.file, o.pipe
	notifies := o.notifies
	o.notifies = nil
	watched := o.watch != nil
	o.mu.Unlock()
	for _, op := range notifies {
		op.cancel() // completes with STATUS_NOTIFY_CLEANUP
	}
	if watched {
		o.share.watch.remove(o)
	}
	return f, p, true
}

func closeBackend(f vfs.File, p *rpc.Pipe) error {
	var err error
	if f != nil {
		err = f.Close()
	}
	if p != nil {
		p.Close()
	}
	return err
}

// releaseLocked takes the closed o out of its file's state: share mode,
// byte-range locks, caching, durability. It returns what is left to do
// without the share lock: deleting the file when o was its last open and
// it is to be deleted. The caller holds sh.mu.
func (o *Open) releaseLocked() func() error {
	n, sh := o.node, o.share
	o.session.srv.state.ReleaseLocksLocked(o)
	sh.store.EndOplockLocked(o) // a pending break ends with the close
	o.session.srv.dropLease(o)
	o.session.srv.state.DropDurableLocked(o)
	name := n.name
	doDelete, stream := sh.store.RemoveOpenLocked(o)
	if !doDelete {
		return func() error { return nil }
	}
	isDir := o.isDir
	return func() error {
		if st, ok := vfs.As[vfs.Streamer](sh.cfg.FS); ok && stream != "" {
			if err := st.RemoveStream(context.Background(), name, stream); err != nil {
				return err
			}
			sh.noteStreamRemoved(name, stream) // notify_modify.go
			return nil
		} else if stream == "" {
			parent, _ := splitParent(name)
			defer sh.dirChanging(parent)() // until the index has lost the name (name_index.go)
			if err := sh.cfg.FS.Remove(context.Background(), name); err != nil {
				return err
			}
			sh.breakParentLeases(o.dirOwner, name) // lease_dir.go
			sh.nameRemoved(name, isDir)            // name_short.go
			sh.notifyChanges(nameFilter(isDir), change{name, notifyActionRemoved})
		}
		return nil
	}
}
