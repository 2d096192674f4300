package smb

import (
	"testing"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// A rename into a directory fails with SHARING_VIOLATION while that
// directory is open with DELETE access or without sharing write, as on
// Windows; an open sharing everything without DELETE lets it through.
func TestRenameTargetDirOpen(t *testing.T) {
	w := attrClient(t, vfs.NewMem())
	dirAccess := uint32(smb2.FileReadData | smb2.FileWriteData)
	for _, c := range []struct {
		what          string
		access, share uint32
		want          smb2.Status
	}{
		{"delete access, sharing all", dirAccess | smb2.Delete, shareAll, smb2.StatusSharingViolation},
		{"delete access, sharing nothing", dirAccess | smb2.Delete, 0, smb2.StatusSharingViolation},
		{"no delete access, sharing nothing", dirAccess, 0, smb2.StatusSharingViolation},
		{"no delete access, sharing all", dirAccess, shareAll, 0},
	} {
		st, d := w.createWith("d", c.access, c.share, smb2.FileOpenIf, smb2.FileDirectoryFile)
		if st != 0 {
			t.Fatalf("%s: open dir: %v", c.what, st)
		}
		st, f := w.createWith(`d\f`, smb2.GenericAll, 0, smb2.FileOpenIf, smb2.FileNonDirectoryFile)
		if st != 0 {
			t.Fatalf("%s: open file: %v", c.what, st)
		}
		if got := w.rename(f, `d\g`, true); got != c.want {
			t.Errorf("%s: rename %v, want %v", c.what, got, c.want)
		}
		if c.want == 0 {
			w.rename(f, `d\f`, true)
		}
		w.closeFile(f)
		w.closeFile(d)
	}
}
