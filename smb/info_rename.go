package smb

import "github.com/cifsd/cifsd/smb2"

// renameParentConflict reports whether the directory a rename moves a file
// into is open in a way that refuses the rename. Windows carries out a
// rename by opening the destination's parent (MS-FSA 2.1.5.15.12: with
// FILE_ADD_FILE access, sharing read and write but not delete), so another
// open of that directory holding DELETE access, or one not sharing write,
// makes the rename fail with SHARING_VIOLATION, before any oplock break
// (MS-FSA 2.1.5.1.2.1; smbtorture smb2.rename.share_delete_and_delete_access,
// no_share_delete_but_delete_access, no_share_delete_no_delete_access,
// smb2.oplock.exclusive6, batch19, batch20). The caller does not hold sh.mu.
func (sh *shareState) renameParentConflict(dst string, o *Open) bool {
	dir, _ := splitParent(dst)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.store.FileLocked(sh, foldKey(dir))
	if n == nil {
		return false
	}
	for _, x := range n.opens {
		if x == o || x.access&accessShareable == 0 {
			continue // no data access: no part in share modes
		}
		if x.access&smb2.Delete != 0 || x.shareAccess&smb2.FileShareWrite == 0 {
			return true
		}
	}
	return false
}
