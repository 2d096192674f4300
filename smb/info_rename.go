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
	// Windows' open of the parent: FILE_ADD_FILE (the bit of
	// FILE_WRITE_DATA), sharing read and write. Against it, another open
	// holding DELETE, or one not sharing write, conflicts; opens without
	// data access take no part.
	return n != nil && sh.store.ShareConflictLocked(n, o, smb2.FileWriteData, smb2.FileShareRead|smb2.FileShareWrite)
}
