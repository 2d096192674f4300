package smb

import (
	"context"
	"io/fs"
	"strings"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// link gives o's file a further name, a hard link (SET_INFO
// FileLinkInformation: MS-FSA 2.1.5.15.6, MS-FSCC 2.4.27.2, whose layout is
// FileRenameInformation's). Backends without vfs.Linker do not have hard
// links: NOT_SUPPORTED, as a volume without them answers.
//
// Share modes and byte-range locks belong to a name in cifsd (fileNode),
// not to the file behind all its names as on NTFS: an open through one
// name does not see the opens through another.
func (o *Open) link(ctx context.Context, target string, replace bool) smb2.Status {
	if o.stream != "" {
		return smb2.StatusInvalidParameter
	}
	if o.isDir {
		return smb2.StatusFileIsADirectory
	}
	sh := o.share
	lk, ok := vfs.As[vfs.Linker](sh.cfg.FS)
	if !ok || o.node == nil {
		return smb2.StatusNotSupported
	}
	if o.tree.readOnly {
		return smb2.StatusAccessDenied
	}
	clean, stream, st := cleanPath(strings.TrimPrefix(target, `\`))
	if st != smb2.StatusSuccess {
		return st
	}
	if stream != "" || clean == "." {
		return smb2.StatusObjectNameInvalid
	}
	if st := o.share.vetoStatus(clean); st != smb2.StatusSuccess { // veto files (share_policy.go)
		return st
	}
	if st := o.dfsTargetCheck(ctx, clean); st != smb2.StatusSuccess { // through a DFS link (dfs.go)
		return st
	}
	dst, dstInfo, st := sh.resolve(ctx, clean)
	if st != smb2.StatusSuccess {
		return st
	}
	// ADD_FILE on the new name's directory, DELETE on a file it replaces.
	if st := o.checkRenameAccess(ctx, dst, dstInfo); st != smb2.StatusSuccess { // security_access.go
		return st
	}
	res, src, err := o.reserveForRename(ctx, dst) // open_fileops.go
	if err != nil {
		return smb2.StatusCancelled
	}
	defer res.release()
	sh.mu.Lock()
	st = linkDecisionLocked(sh, o.node, src, dst, dstInfo, replace)
	sh.mu.Unlock()
	if st != smb2.StatusSuccess || dstInfo != nil && foldKey(dst) == foldKey(src) {
		return st
	}
	// Backend calls without the share lock; both names are reserved.
	dstParent, _ := splitParent(dst)
	defer sh.dirChanging(dstParent)() // until the index has the name (name_index.go)
	if dstInfo != nil {
		if err := sh.cfg.FS.Remove(ctx, dst); err != nil {
			return statusOf(err)
		}
	}
	if err := lk.Link(ctx, src, dst); err != nil {
		return statusOf(err)
	}
	res.release()
	if dstInfo != nil {
		sh.nameRemoved(dst, false) // name_short.go
		sh.notifyChanges(nameFilter(false), change{dst, notifyActionRemoved})
	}
	sh.nameAdded(dst)
	sh.breakParentLeases(o.dirOwner, dst) // lease_dir.go
	sh.notifyChanges(nameFilter(false), change{dst, notifyActionAdded})
	return smb2.StatusSuccess
}

// linkDecisionLocked decides a link of src (node n) as dst. The caller
// holds sh.mu and the reservation of both names.
func linkDecisionLocked(sh *shareState, n *fileNode, src, dst string, dstInfo fs.FileInfo, replace bool) smb2.Status {
	if sh.store.IsDeletePendingLocked(n) {
		return smb2.StatusAccessDenied // Open.Link.IsDeleted
	}
	if dstInfo == nil {
		return smb2.StatusSuccess
	}
	switch {
	case foldKey(dst) == foldKey(src):
		return smb2.StatusSuccess // the name it has already
	case !replace:
		return smb2.StatusObjectNameCollision
	case dstInfo.IsDir() || sh.store.FileLocked(sh, foldKey(dst)) != nil:
		// A directory, or a file someone has open, is not replaced.
		return smb2.StatusAccessDenied
	}
	return smb2.StatusSuccess
}
