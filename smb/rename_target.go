package smb

import "github.com/cifsd/cifsd/smb2"

// targetDirConflict reports whether the directory a rename moves a file
// into is open in a way that refuses the rename. Windows opens the target
// directory for the rename (MS-FSA 2.1.5.15.12: the object store opens the
// destination's parent, with FILE_ADD_FILE access, sharing read and write
// but not delete), so an open of that directory holding DELETE access, or
// one not sharing write, makes the rename fail with SHARING_VIOLATION
// (smbtorture smb2.rename.share_delete_and_delete_access,
// no_share_delete_but_delete_access, no_share_delete_no_delete_access).
// The caller holds sh.mu.
func (sh *shareState) targetDirConflict(dst string) bool {
	dir, _ := splitParent(dst)
	n := sh.files[foldKey(dir)]
	if n == nil {
		return false
	}
	for _, x := range n.opens {
		if x.access&accessShareable == 0 {
			continue // no data access: no part in share modes
		}
		if x.access&smb2.Delete != 0 || x.shareAccess&smb2.FileShareWrite == 0 {
			return true
		}
	}
	return false
}
