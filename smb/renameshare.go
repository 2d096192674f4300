package smb

import "github.com/cifsd/cifsd/smb2"

// renameParentConflict reports whether another open of the directory that
// is to receive a rename's target forbids the rename. Windows carries out a
// rename by opening that directory to add an entry, sharing read and write
// but not delete, so an open of the directory with DELETE access is a
// sharing violation; the rename fails before any oplock break (MS-FSA
// 2.1.5.1.2.1, 2.1.5.15.12; smbtorture smb2.oplock.exclusive6, batch19,
// batch20). The caller does not hold sh.mu.
func (sh *shareState) renameParentConflict(dst string, o *Open) bool {
	dir, _ := splitParent(dst)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.files[foldKey(dir)]
	if n == nil {
		return false
	}
	for _, x := range n.opens {
		if x != o && x.access&smb2.Delete != 0 {
			return true
		}
	}
	return false
}
