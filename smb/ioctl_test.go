package smb

import (
	"testing"

	"github.com/cifsd/cifsd/smb2"
)

// FSCTLs that name no open (network interfaces, negotiate validation, DFS
// referrals, pipe wait) refuse a FileId other than all ones, even one of an
// open file (MS-SMB2 3.3.5.15; smbtorture ioctl.bug14788).
func TestIoctlNoOpenFSCTLsNeedAllOnesFileID(t *testing.T) {
	w, _ := fsctlServer(t)
	f := w.open("f", smb2.GenericAll, 0)
	for _, code := range []uint32{smb2.FsctlQueryNetworkInterfaceInfo, smb2.FsctlDfsGetReferrals, smb2.FsctlPipeWait} {
		if st, _ := w.ioctl(code, f, nil, 1024); st != smb2.StatusInvalidParameter {
			t.Errorf("FSCTL %#x on a file: %v, want INVALID_PARAMETER", code, st)
		}
	}
	none := smb2.FileID{Persistent: ^uint64(0), Volatile: ^uint64(0)}
	if st, _ := w.ioctl(smb2.FsctlQueryNetworkInterfaceInfo, none, nil, 65536); st == smb2.StatusInvalidParameter {
		t.Errorf("network interfaces on no open: %v", st)
	}
}
