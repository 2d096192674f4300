package smb

import (
	"context"
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
	dst, dstInfo, st := sh.resolve(ctx, clean)
	if st != smb2.StatusSuccess {
		return st
	}
	// ADD_FILE on the new name's directory, DELETE on a file it replaces.
	if st := o.checkRenameAccess(ctx, dst, dstInfo); st != smb2.StatusSuccess { // access.go
		return st
	}
	sh.mu.Lock()
	src := o.node.name
	if o.node.deletePending {
		sh.mu.Unlock()
		return smb2.StatusAccessDenied // Open.Link.IsDeleted
	}
	if dstInfo != nil {
		switch {
		case foldKey(dst) == foldKey(src):
			sh.mu.Unlock()
			return smb2.StatusSuccess // the name it has already
		case !replace:
			sh.mu.Unlock()
			return smb2.StatusObjectNameCollision
		case dstInfo.IsDir() || sh.files[foldKey(dst)] != nil:
			// A directory, or a file someone has open, is not replaced.
			sh.mu.Unlock()
			return smb2.StatusAccessDenied
		}
		if err := sh.cfg.FS.Remove(ctx, dst); err != nil {
			sh.mu.Unlock()
			return statusOf(err)
		}
	}
	err := lk.Link(ctx, src, dst)
	sh.mu.Unlock()
	if err != nil {
		return statusOf(err)
	}
	if dstInfo != nil {
		sh.nameRemoved(dst, false) // shortname.go
		sh.notifyChanges(nameFilter(false), change{dst, notifyActionRemoved})
	}
	sh.nameAdded(dst)
	sh.breakParentLeases(o.dirOwner, dst) // dirlease.go
	sh.notifyChanges(nameFilter(false), change{dst, notifyActionAdded})
	return smb2.StatusSuccess
}
