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

// rawWrite sends a WRITE of data at off and returns the status.
func (w *wireClient) rawWrite(f smb2.FileID, off uint64, data []byte) smb2.Status {
	w.t.Helper()
	h, _ := w.roundTrip(smb2.Write, writeAtBody(f, off, data), true, false)
	return smb2.Status(h.Status)
}

// rawRead sends a READ of n bytes at off and returns the status.
func (w *wireClient) rawRead(f smb2.FileID, off uint64, n uint32) smb2.Status {
	w.t.Helper()
	b := make([]byte, 49)
	le16(b, 49)
	le32(b[4:], n)
	le64(b[8:], off)
	putFID(b[16:], f)
	h, _ := w.roundTrip(smb2.Read, b, true, false)
	return smb2.Status(h.Status)
}

// Offsets are signed: READ and WRITE refuse ranges past the largest one,
// and a write that would make a file that is not sparse larger than its
// volume is DISK_FULL, as on NTFS (smbtorture rw.invalid).
func TestReadWriteOffsetLimits(t *testing.T) {
	w, _ := fsctlServer(t)
	f := w.open("f", smb2.GenericAll, 0)
	w.write(f, 0, make([]byte, 100))
	const maxInt64 = 1<<63 - 1
	reads := []struct {
		off  uint64
		n    uint32
		want smb2.Status
	}{
		{100, 10, smb2.StatusEndOfFile},
		{100, 0, smb2.StatusSuccess},
		{maxInt64 - 1, 1, smb2.StatusEndOfFile},
		{maxInt64, 0, smb2.StatusSuccess},
		{maxInt64, 1, smb2.StatusInvalidParameter},
		{maxInt64 + 1, 0, smb2.StatusInvalidParameter},
		{^uint64(0), 0, smb2.StatusInvalidParameter},
	}
	for _, r := range reads {
		if st := w.rawRead(f, r.off, r.n); st != r.want {
			t.Errorf("read %d at %#x: %v, want %v", r.n, r.off, st, r.want)
		}
	}
	writes := []struct {
		off  uint64
		n    int
		want smb2.Status
	}{
		{^uint64(0), 10, smb2.StatusInvalidParameter},
		{^uint64(1), 10, smb2.StatusInvalidParameter},
		{maxInt64, 0, smb2.StatusSuccess},
		{maxInt64, 1, smb2.StatusInvalidParameter},
		{maxFileSize, 1, smb2.StatusInvalidParameter},
		{maxFileSize - 1, 1, smb2.StatusDiskFull}, // the in-memory volume holds 1 TiB
		{maxFileSize, 0, smb2.StatusSuccess},
		{200, 1, smb2.StatusSuccess},
	}
	for _, c := range writes {
		if st := w.rawWrite(f, c.off, make([]byte, c.n)); st != c.want {
			t.Errorf("write %d at %#x: %v, want %v", c.n, c.off, st, c.want)
		}
	}
}
