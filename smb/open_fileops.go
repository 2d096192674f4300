package smb

import (
	"context"
	"io/fs"
	"strings"

	"github.com/cifsd/cifsd/smb2"
)

// stat describes the open's file as it is now.
func (o *Open) stat(ctx context.Context) (fs.FileInfo, error) {
	o.mu.Lock()
	f, name := o.file, o.name
	o.mu.Unlock()
	if f != nil {
		return f.Stat()
	}
	return o.share.cfg.FS.Stat(ctx, name) // a directory, or a stat open (open_data.go)
}

// setDeletePending sets or clears the file's delete-pending state
// (FileDispositionInformation, MS-FSA 2.1.5.15.3).
func (o *Open) setDeletePending(ctx context.Context, del bool) smb2.Status {
	if o.access&smb2.Delete == 0 {
		return smb2.StatusAccessDenied
	}
	if o.tree.readOnly {
		return smb2.StatusAccessDenied
	}
	if del {
		fi, err := o.stat(ctx)
		if err != nil {
			return statusOf(err)
		}
		if o.name == "." {
			return smb2.StatusCannotDelete
		}
		if !fi.IsDir() && readOnly(fi) { // MS-FSA 2.1.5.15.3
			return smb2.StatusCannotDelete
		}
		if fi.IsDir() {
			list, err := o.share.cfg.FS.ReadDir(ctx, o.name)
			if err != nil {
				return statusOf(err)
			}
			if len(list) > 0 {
				return smb2.StatusDirectoryNotEmpty
			}
		}
	}
	if del {
		o.breakHandleCaching(ctx) // others caching handles are told first
	}
	sh := o.share
	// Not while another operation on the name is between its decision
	// and its backend call: a CREATE would publish an open of a file to
	// delete (name_lock.go).
	sh.mu.Lock()
	name := o.node.name
	sh.mu.Unlock()
	res, err := sh.store.ReserveNames(ctx, sh, "", name)
	if err != nil {
		return smb2.StatusCancelled
	}
	defer res.release()
	sh.mu.Lock()
	sh.store.SetDeletePendingLocked(o.node, del)
	if !del {
		// Clearing also cancels this open's delete-on-close.
		o.deleteOnClose = false
	}
	sh.mu.Unlock()
	return smb2.StatusSuccess
}

// rename moves the open's file to target, a path relative to the share
// root (FileRenameInformation, MS-FSA 2.1.5.15.12).
func (o *Open) rename(ctx context.Context, target string, replace bool) smb2.Status {
	if o.access&smb2.Delete == 0 {
		return smb2.StatusAccessDenied
	}
	if o.tree.readOnly {
		return smb2.StatusAccessDenied
	}
	if o.name == "." {
		return smb2.StatusAccessDenied
	}
	target = strings.TrimPrefix(target, `\`)
	if strings.HasPrefix(target, ":") {
		return o.renameStream(ctx, target, replace) // stream.go
	}
	clean, stream, st := cleanPath(target)
	if st != smb2.StatusSuccess {
		return st
	}
	switch {
	case stream != "" && o.stream != "":
		// A stream is renamed by ":name" alone; a path naming a stream
		// of the file is refused as Windows refuses it.
		return smb2.StatusSharingViolation
	case stream != "" || o.stream != "":
		return smb2.StatusInvalidParameter
	}
	if clean == "." {
		return smb2.StatusObjectNameInvalid
	}
	if st := o.share.vetoStatus(clean); st != smb2.StatusSuccess { // veto files (share_policy.go)
		return st
	}
	if st := o.dfsTargetCheck(ctx, clean); st != smb2.StatusSuccess { // through a DFS link (dfs.go)
		return st
	}
	sh := o.share
	dst, dstInfo, st := sh.resolve(ctx, clean)
	if st != smb2.StatusSuccess {
		return st
	}
	if st := o.checkRenameAccess(ctx, dst, dstInfo); st != smb2.StatusSuccess { // security_access.go
		return st
	}
	if sh.renameParentConflict(dst, o) {
		return smb2.StatusSharingViolation // info_rename.go
	}
	// Others caching handles may close them once told (lease.go).
	o.breakHandleCaching(ctx)
	res, src, err := o.reserveForRename(ctx, dst)
	if err != nil {
		return smb2.StatusCancelled
	}
	defer res.release()
	sh.mu.Lock()
	dst, st = o.checkRenameLocked(src, dst, clean, dstInfo, replace)
	sh.mu.Unlock()
	if st != smb2.StatusSuccess || dst == src {
		return st
	}
	// The backend call runs without the share lock: the reservation of
	// both names (and of the subtree of a directory) keeps the decision.
	srcParent, _ := splitParent(src)
	dstParent, _ := splitParent(dst)
	defer sh.dirChanging(srcParent, dstParent)() // until the index has both names (name_index.go)
	if err := sh.cfg.FS.Rename(ctx, src, dst); err != nil {
		return statusOf(err)
	}
	sh.mu.Lock()
	sh.store.MoveLocked(sh, o.node, dst) // its streams and opens follow
	sh.mu.Unlock()
	res.release()
	isDir := o.isDir
	sh.breakParentLeases(o.dirOwner, src, dst) // lease_dir.go
	defer sh.noteRenamed(dst, isDir)           // notify_modify.go
	sh.nameRemoved(src, isDir)                 // name_short.go
	sh.nameAdded(dst)
	srcDir, _ := splitParent(src)
	dstDir, _ := splitParent(dst)
	if strings.EqualFold(srcDir, dstDir) {
		sh.notifyChanges(nameFilter(isDir), change{src, notifyActionRenamedOldName}, change{dst, notifyActionRenamedNewName})
	} else {
		sh.notifyChanges(nameFilter(isDir), change{src, notifyActionRemoved})
		sh.notifyChanges(nameFilter(isDir), change{dst, notifyActionAdded})
	}
	return smb2.StatusSuccess
}

// reserveForRename reserves the open's name, its subtree when it is a
// directory, and the names in also (name_lock.go); it returns the
// reservation and the open's name, which stays its name while the
// reservation lasts.
func (o *Open) reserveForRename(ctx context.Context, also ...string) (*reservation, string, error) {
	sh := o.share
	for {
		sh.mu.Lock()
		src := o.node.name
		sh.mu.Unlock()
		sub := ""
		if o.isDir {
			sub = src
		}
		res, err := sh.store.ReserveNames(ctx, sh, sub, append([]string{src}, also...)...)
		if err != nil {
			return nil, "", err
		}
		sh.mu.Lock()
		same := o.node.name == src
		sh.mu.Unlock()
		if same {
			return res, src, nil
		}
		res.release() // renamed meanwhile by another open of the file
	}
}

// checkRenameLocked decides a rename of the open's file src to dst
// (MS-FSA 2.1.5.15.12); it returns the name to rename to (dst, or src
// when there is nothing to do) and the status. The caller holds sh.mu and
// the reservation of both names.
func (o *Open) checkRenameLocked(src, dst, clean string, dstInfo fs.FileInfo, replace bool) (string, smb2.Status) {
	sh := o.share
	if dstInfo != nil && foldKey(dst) != foldKey(src) {
		if !replace {
			return src, smb2.StatusObjectNameCollision
		}
		if dstInfo.IsDir() {
			return src, smb2.StatusAccessDenied
		}
		if n := sh.store.FileLocked(sh, foldKey(dst)); n != nil && sh.store.OpenCountLocked(n) > 0 {
			return src, smb2.StatusAccessDenied
		}
	}
	if foldKey(dst) == foldKey(src) && dst == src {
		return src, smb2.StatusSuccess
	}
	if o.isDir && sh.store.OpenBelowLocked(sh, src) {
		// Windows refuses to rename a directory with open files below it.
		return src, smb2.StatusAccessDenied
	}
	if sh.store.StreamsDenyDeleteLocked(sh, foldKey(src), foldKey(src)) {
		return src, smb2.StatusSharingViolation // an open stream not sharing delete (stream.go)
	}
	// Every other open of the file must allow delete (MS-FSA 2.1.5.15.12).
	// The rename is a DELETE on the file: it must pass the share-mode
	// check against every other open, both ways (MS-FSA 2.1.5.1.2.1).
	if sh.store.DeleteDeniedLocked(o) {
		return src, smb2.StatusSharingViolation
	}
	if dstInfo != nil && foldKey(dst) == foldKey(src) {
		// A change of case only: keep the client's new spelling.
		dir, _ := splitParent(src)
		_, base := splitParent(clean)
		dst = joinName(dir, base)
	}
	return dst, smb2.StatusSuccess
}

func joinName(dir, base string) string {
	if dir == "." {
		return base
	}
	return dir + "/" + base
}

// truncate sets the file's end of file.
func (o *Open) truncate(ctx context.Context, size int64) smb2.Status {
	if !o.hasData() {
		return smb2.StatusInvalidParameter
	}
	if o.access&(smb2.FileWriteData|smb2.FileAppendData) == 0 || o.tree.readOnly {
		return smb2.StatusAccessDenied
	}
	if size < 0 {
		return smb2.StatusInvalidParameter
	}
	f, err := o.dataFile(ctx)
	if err != nil {
		return statusOf(err)
	}
	o.breakReadCaching() // a change of size breaks others' read caching
	if err := f.Truncate(size); err != nil {
		return statusOf(err)
	}
	o.setAlloc(0) // a truncation gives up a requested allocation (info_alloc.go)
	return smb2.StatusSuccess
}
