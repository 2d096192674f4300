package smb

import (
	"context"
	"strings"

	"github.com/cifsd/cifsd/smb2"
)

// fileStore is the namespace of a share's open files: which files and
// streams have opens (MS-SMB2 3.3.1.10 Open, MS-FSA 2.1.1.6 Stream.OpenList
// / File.OpenList), their share modes and delete-pending (MS-FSA
// 2.1.5.1.2, 2.1.5.4), and the names reserved by operations between their
// decision and their backend calls (name_lock.go). A file is named by its
// key: foldKey of its backend name, or streamKey for a named stream.
//
// Each method is one step the store takes atomically. Those whose names
// end in Locked are called with the share lock (shareState.mu) held, as
// part of a larger change of the file's state that the same lock makes
// atomic (a CREATE's decision and its breaks, its publication with the
// caching grants, a CLOSE's release); the others take what they need.
// The share lock is never held across a backend call: a CREATE reserves
// the name (ReserveNames), decides (FileLocked, breaks, AdmitLocked),
// calls the backend with the lock released, and publishes
// (PublishLocked) under the lock again, the reservation keeping the name
// meanwhile.
type fileStore interface {
	// ReserveNames reserves names of sh (backend names) for the caller,
	// waiting until no other operation holds any of them; subtree, when
	// not "", is one of names whose whole subtree is reserved. It fails
	// only when ctx is done.
	ReserveNames(ctx context.Context, sh *shareState, subtree string, names ...string) (*reservation, error)
	// FileLocked returns the node of the file or stream keyed key while
	// it has opens (or, for a delete-pending file, opens of its streams),
	// nil otherwise. Its opens are what breaks of caching are decided on.
	FileLocked(sh *shareState, key string) *fileNode
	// HasFile is FileLocked(sh, key) != nil for a caller without the
	// share lock.
	HasFile(sh *shareState, key string) bool
	// AdmitLocked decides whether an open of key (the file base itself,
	// or a named stream of it) asking for access with shareAccess may be
	// made: StatusDeletePending when the file or stream is to be deleted,
	// StatusSharingViolation when the share modes of its opens, or for
	// DELETE those of the opens of the file's other streams, forbid it
	// (MS-FSA 2.1.5.1.2.1), StatusSuccess otherwise.
	AdmitLocked(sh *shareState, base, key string, access, shareAccess uint32) smb2.Status
	// PublishLocked inserts o as an open of its name and stream, making
	// the file's node when it has none and setting o.node. grant, when
	// not nil, runs with the node before o is among its opens: the
	// oplock and lease grants read the other opens.
	PublishLocked(o *Open, grant func(n *fileNode))
	// RemoveOpenLocked takes the closed o out of its file's opens. A
	// delete-on-close open makes the file delete-pending first. It
	// reports whether the file (stream "") or the stream named stream is
	// to be deleted now: o was the last open of a delete-pending file or
	// stream, or the last open of a stream of a delete-pending file whose
	// own opens are gone (MS-FSA 2.1.5.4).
	RemoveOpenLocked(o *Open) (doDelete bool, stream string)
	// SetDeletePendingLocked sets or clears n's delete-pending.
	SetDeletePendingLocked(n *fileNode, pending bool)
	// DeletePendingLocked reports whether the file name (not a stream)
	// is delete-pending.
	DeletePendingLocked(sh *shareState, name string) bool
	// StreamsDenyDeleteLocked reports whether an open of a stream of the
	// file base other than self (either keys) does not share delete.
	StreamsDenyDeleteLocked(sh *shareState, base, self string) bool
	// OpenBelowLocked reports whether any file below the directory dir
	// has opens.
	OpenBelowLocked(sh *shareState, dir string) bool
	// OpensLocked returns the opens of n, in the order they were
	// published: what breaks of caching and caching grants are decided
	// on, and what the admin views walk. The caller reads the slice
	// only, and only while it holds the share lock.
	OpensLocked(n *fileNode) []*Open
	// OpenCountLocked is the number of opens of n.
	OpenCountLocked(n *fileNode) int
	// IsDeletePendingLocked reports whether the file or stream of n is
	// delete-pending.
	IsDeletePendingLocked(n *fileNode) bool
	// ShareConflictLocked reports whether an open asking for access with
	// shareAccess conflicts with the share modes of the opens of n other
	// than except (nil: all of them), both ways (MS-FSA 2.1.5.1.2.1).
	ShareConflictLocked(n *fileNode, except *Open, access, shareAccess uint32) bool
	// DeleteDeniedLocked reports whether an open of o's file other than
	// o refuses o a DELETE of the file (a rename, MS-FSA 2.1.5.15.12): it
	// does not share delete, or it has DELETE access and o does not share
	// delete. Unlike the share modes of a new open, opens without data
	// access count too.
	DeleteDeniedLocked(o *Open) bool
	// AppInstanceOpensLocked returns the opens of n made under the app
	// instance id by a client whose ClientGuid is not client (MS-SMB2
	// 3.3.5.9.13).
	AppInstanceOpensLocked(n *fileNode, id, client [16]byte) []*Open
	// AllocLocked is the allocation a client asked for on n beyond its
	// data (FileAllocationInformation, the AlSi create context), in
	// bytes; 0 when none. It lasts while the file has opens.
	AllocLocked(n *fileNode) int64
	// SetAllocLocked records alloc as n's allocation (0: none).
	SetAllocLocked(n *fileNode, alloc int64)
	// MoveLocked renames the file of n, its open streams and their
	// opens' names to dst.
	MoveLocked(sh *shareState, n *fileNode, dst string)
	// MoveStreamLocked renames the stream of n (a file's default stream
	// when "") to stream to of the same file.
	MoveStreamLocked(sh *shareState, n *fileNode, to string)
}

// The fileStore of memState: the tables are the share's (shareState.files,
// streams, reserved), made atomic by its share lock.

// ReserveNames reserves names of sh (name_lock.go).
func (*memState) ReserveNames(ctx context.Context, sh *shareState, subtree string, names ...string) (*reservation, error) {
	return sh.reserveNames(ctx, subtree, names...)
}

// FileLocked returns the node of key.
func (*memState) FileLocked(sh *shareState, key string) *fileNode { return sh.files[key] }

// HasFile reports whether key has a node.
func (*memState) HasFile(sh *shareState, key string) bool { return sh.hasNode(key) }

// AdmitLocked applies delete-pending and share modes.
func (*memState) AdmitLocked(sh *shareState, base, key string, access, shareAccess uint32) smb2.Status {
	if n := sh.files[key]; n != nil {
		if n.deletePending {
			return smb2.StatusDeletePending
		}
		if n.shareConflict(nil, access, shareAccess) {
			return smb2.StatusSharingViolation
		}
	}
	if access&smb2.Delete != 0 && sh.otherStreamDeniesDelete(base, key) {
		return smb2.StatusSharingViolation // an open of another stream of the file (stream.go)
	}
	return smb2.StatusSuccess
}

// PublishLocked inserts o.
func (*memState) PublishLocked(o *Open, grant func(n *fileNode)) {
	sh := o.share
	var n *fileNode
	if o.stream == "" {
		n = sh.nodeLocked(o.name)
	} else if n = sh.files[streamKey(o.name, o.stream)]; n == nil {
		n = &fileNode{key: streamKey(o.name, o.stream), name: o.name, stream: o.stream}
		sh.addStreamNodeLocked(n)
	}
	o.node = n
	if grant != nil {
		grant(n)
	}
	n.addOpenLocked(o)
}

// RemoveOpenLocked takes o out of its file's opens.
func (*memState) RemoveOpenLocked(o *Open) (bool, string) {
	n, sh := o.node, o.share
	if o.deleteOnClose {
		n.deletePending = true
	}
	n.removeOpenLocked(o)
	last := len(n.opens) == 0
	doDelete := last && n.deletePending
	stream := n.stream
	if doDelete && sh.keepPendingBaseLocked(n) {
		// Open streams of the file keep it until they close (stream.go).
		return false, ""
	}
	if last {
		delete(sh.files, n.key)
		if base := sh.pendingBaseLocked(n); base != nil {
			// The last stream open of a file to delete: the file goes.
			doDelete, stream = true, ""
		}
	}
	return doDelete, stream
}

// SetDeletePendingLocked sets n's delete-pending.
func (*memState) SetDeletePendingLocked(n *fileNode, pending bool) { n.deletePending = pending }

// DeletePendingLocked reports whether the file name is delete-pending.
func (*memState) DeletePendingLocked(sh *shareState, name string) bool {
	return sh.basePendingLocked(name)
}

// StreamsDenyDeleteLocked checks the other streams' opens.
func (*memState) StreamsDenyDeleteLocked(sh *shareState, base, self string) bool {
	return sh.otherStreamDeniesDelete(base, self)
}

// OpenBelowLocked looks for opens below dir.
func (*memState) OpenBelowLocked(sh *shareState, dir string) bool {
	prefix := foldKey(dir) + "/"
	for k := range sh.files {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// OpensLocked returns n's opens.
func (*memState) OpensLocked(n *fileNode) []*Open { return n.opens }

// OpenCountLocked counts n's opens.
func (*memState) OpenCountLocked(n *fileNode) int { return len(n.opens) }

// IsDeletePendingLocked reports n's delete-pending.
func (*memState) IsDeletePendingLocked(n *fileNode) bool { return n.deletePending }

// ShareConflictLocked applies the share modes of n's opens but except.
func (*memState) ShareConflictLocked(n *fileNode, except *Open, access, shareAccess uint32) bool {
	return n.shareConflict(except, access, shareAccess)
}

// DeleteDeniedLocked checks the other opens of o's file for a delete.
func (*memState) DeleteDeniedLocked(o *Open) bool {
	for _, x := range o.node.opens {
		if x != o && (x.shareAccess&smb2.FileShareDelete == 0 ||
			x.access&smb2.Delete != 0 && o.shareAccess&smb2.FileShareDelete == 0) {
			return true
		}
	}
	return false
}

// AppInstanceOpensLocked finds the opens of another client's instance.
func (*memState) AppInstanceOpensLocked(n *fileNode, id, client [16]byte) []*Open {
	var out []*Open
	for _, o := range n.opens {
		if o.hasAppInstance && o.appInstance == id && o.openClientGUID() != client {
			out = append(out, o)
		}
	}
	return out
}

// AllocLocked returns n's allocation.
func (*memState) AllocLocked(n *fileNode) int64 { return n.alloc }

// SetAllocLocked sets n's allocation.
func (*memState) SetAllocLocked(n *fileNode, alloc int64) { n.alloc = alloc }

// MoveLocked renames n's file.
func (*memState) MoveLocked(sh *shareState, n *fileNode, dst string) {
	src := n.name
	delete(sh.files, n.key)
	n.name, n.key = dst, foldKey(dst)
	sh.files[n.key] = n
	sh.renameStreamNodesLocked(src, dst)
	for _, x := range n.opens {
		x.mu.Lock()
		x.name = dst
		x.mu.Unlock()
	}
}

// MoveStreamLocked renames n's stream.
func (*memState) MoveStreamLocked(sh *shareState, n *fileNode, to string) {
	delete(sh.files, n.key)
	sh.dropStreamNodeLocked(n)
	n.stream = to
	if to == "" {
		n.key = foldKey(n.name)
		sh.files[n.key] = n
	} else {
		n.key = streamKey(n.name, to)
		sh.addStreamNodeLocked(n)
	}
}

// addStreamNodeLocked puts the named-stream node n in shareState.files
// and in the index of its file's streams. The caller holds sh.mu.
func (sh *shareState) addStreamNodeLocked(n *fileNode) {
	sh.files[n.key] = n
	if sh.streams == nil {
		sh.streams = make(map[string][]*fileNode)
	}
	base := foldKey(n.name)
	sh.streams[base] = append(sh.streams[base], n)
}

// dropStreamNodeLocked takes the named-stream node n out of the index of
// its file's streams (its caller takes it out of shareState.files). The
// caller holds sh.mu.
func (sh *shareState) dropStreamNodeLocked(n *fileNode) {
	base := foldKey(n.name)
	list := sh.streams[base]
	for i, x := range list {
		if x == n {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(sh.streams, base)
	} else {
		sh.streams[base] = list
	}
}

// otherStreamDeniesDelete reports whether an open of another stream of
// the file whose key is base (the default stream or a named one; self is
// the key of the stream being opened) does not share delete. Opening any
// stream for DELETE needs every open of the file's other streams to allow
// it (MS-FSA 2.1.5.1.2.1: the share check against opens of other streams
// is on DELETE alone). The caller holds sh.mu.
func (sh *shareState) otherStreamDeniesDelete(base, self string) bool {
	list := sh.streams[base]
	if len(list) == 0 {
		return false
	}
	nodes := list
	if n := sh.files[base]; n != nil && base != self {
		nodes = append([]*fileNode{n}, list...)
	}
	for _, n := range nodes {
		if n.key == self {
			continue
		}
		for _, x := range n.opens {
			if x.access&accessShareable != 0 && x.shareAccess&smb2.FileShareDelete == 0 {
				return true
			}
		}
	}
	return false
}

// hasStreamOpensLocked reports whether any named stream of the file whose
// key is base is open. The caller holds sh.mu.
func (sh *shareState) hasStreamOpensLocked(base string) bool {
	for _, n := range sh.streams[base] {
		if len(n.opens) > 0 {
			return true
		}
	}
	return false
}

// renameStreamNodesLocked moves the nodes of the open streams of the file
// src, renamed to dst, under the new name. The caller holds sh.mu.
func (sh *shareState) renameStreamNodesLocked(src, dst string) {
	list := sh.streams[foldKey(src)]
	if len(list) == 0 {
		return
	}
	delete(sh.streams, foldKey(src))
	for _, n := range list {
		delete(sh.files, n.key)
		n.name, n.key = dst, streamKey(dst, n.stream)
		sh.addStreamNodeLocked(n)
		for _, x := range n.opens {
			x.mu.Lock()
			x.name = dst
			x.mu.Unlock()
		}
	}
}

// A file is deleted when its last open of any stream closes (MS-FSA
// 2.1.5.4): when the last open of a delete-pending file closes while
// streams of it are open, its node stays in shareState.files without
// opens, so that names of the file and its streams answer DELETE_PENDING,
// and the file goes with the close of its last stream open.

// keepPendingBaseLocked reports whether the delete-pending file node n,
// whose last open just closed, must wait for its streams' opens. The
// caller holds sh.mu.
func (sh *shareState) keepPendingBaseLocked(n *fileNode) bool {
	return n.stream == "" && n.deletePending && sh.hasStreamOpensLocked(n.key)
}

// pendingBaseLocked returns the node of the delete-pending file whose
// stream node n just lost its last open, taking it out of
// shareState.files, when no stream of the file is open any more: the
// caller then deletes the file. The caller holds sh.mu.
func (sh *shareState) pendingBaseLocked(n *fileNode) *fileNode {
	if n.stream == "" {
		return nil
	}
	sh.dropStreamNodeLocked(n)
	base := sh.files[foldKey(n.name)]
	if base == nil || len(base.opens) > 0 || !base.deletePending || sh.hasStreamOpensLocked(base.key) {
		return nil
	}
	delete(sh.files, base.key)
	return base
}

// basePendingLocked reports whether the file a stream belongs to is to be
// deleted: its streams are then not opened (DELETE_PENDING, as Windows
// answers). The caller holds sh.mu.
func (sh *shareState) basePendingLocked(name string) bool {
	n := sh.files[foldKey(name)]
	return n != nil && n.deletePending
}

// hasNode reports whether the file or stream keyed key has a node (opens).
func (sh *shareState) hasNode(key string) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.files[key] != nil
}

// node returns the node of name, creating it; the caller holds sh.mu.
func (sh *shareState) nodeLocked(name string) *fileNode {
	k := foldKey(name)
	n := sh.files[k]
	if n == nil {
		n = &fileNode{key: k, name: name}
		sh.files[k] = n
	}
	return n
}
