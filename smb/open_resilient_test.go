package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/smb2"
)

// resiliencyBody is an FSCTL_LMR_REQUEST_RESILIENCY IOCTL asking timeout
// milliseconds, its input n bytes long.
func resiliencyBody(f smb2.FileID, timeout uint32, n int) []byte {
	b := make([]byte, 56+n)
	le16(b, 57)
	le32(b[4:], smb2.FsctlLmrRequestResiliency)
	putFID(b[8:], f)
	le32(b[24:], smb2.HeaderSize+56)
	le32(b[28:], uint32(n))
	le32(b[48:], smb2.IoctlIsFsctl)
	if n >= 4 {
		binary.LittleEndian.PutUint32(b[56:], timeout)
	}
	return b
}

// FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2 3.3.5.15.9) makes a plain open
// resilient: it verifies lock sequences, so a replayed LOCK is not applied
// twice, and it survives the loss of its connection with its locks until
// a DHnC of the same user reattaches it.
func TestResilientOpen(t *testing.T) {
	srv := newTokenServer(t)
	srv.DisableMultiChannel = true // so only resiliency turns verification on
	a := durableLogin(t, srv, "alice")
	body := durableCreateBody("r.txt", 0, 0)
	le32(body[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete) // ShareAccess
	r := a.durableCreate(body)
	if r.status != 0 {
		t.Fatalf("create: %v", r.status)
	}
	f := r.id
	lock := smb2.LockElement{Offset: 100, Length: 100, Flags: lkExcl}
	unlock := smb2.LockElement{Offset: 100, Length: 100, Flags: lkUnlock}
	lockReq := func(w *wireClient, f smb2.FileID, seq uint32, el smb2.LockElement) smb2.Status {
		b := make([]byte, 48)
		le16(b, 48)
		le16(b[2:], 1)
		le32(b[4:], seq)
		putFID(b[8:], f)
		le64(b[24:], el.Offset)
		le64(b[32:], el.Length)
		le32(b[40:], el.Flags)
		return w.status(smb2.Lock, b)
	}
	seq := uint32(1<<4 | 1)
	// Not resilient yet: the same request twice is two requests.
	if st := lockReq(a, f, seq, lock); st != 0 {
		t.Fatalf("lock: %v", st)
	}
	if st := lockReq(a, f, seq, lock); st != smb2.StatusLockNotGranted {
		t.Fatalf("second lock before resiliency: %v, want LOCK_NOT_GRANTED", st)
	}
	if st := lockReq(a, f, 0, unlock); st != 0 {
		t.Fatalf("unlock: %v", st)
	}

	if st := a.status(smb2.Ioctl, resiliencyBody(f, 0, 4)); st != smb2.StatusInvalidParameter {
		t.Errorf("short NETWORK_RESILIENCY_REQUEST: %v, want INVALID_PARAMETER", st)
	}
	if st := a.status(smb2.Ioctl, resiliencyBody(f, 3600*1000, 8)); st != smb2.StatusInvalidParameter {
		t.Errorf("an hour's timeout: %v, want INVALID_PARAMETER", st)
	}
	if st := a.status(smb2.Ioctl, resiliencyBody(f, 1000*30, 8)); st != 0 {
		t.Fatalf("request resiliency: %v", st)
	}
	if st := lockReq(a, f, seq, lock); st != 0 {
		t.Fatalf("lock: %v", st)
	}
	if st := lockReq(a, f, seq, lock); st != 0 {
		t.Fatalf("replayed lock on a resilient open: %v, want success", st)
	}

	a.c.Close()
	waitDisconnected(t, srv, f.Persistent)
	b := durableLogin(t, srv, "alice")
	got := b.durableCreate(durableCreateBody("r.txt", 0, 0, dhnc(f)))
	if got.status != 0 || got.id != f {
		t.Fatalf("reconnect: %v id %v, want success and %v", got.status, got.id, f)
	}
	// The lock came along: another open cannot take the range.
	other := b.durableCreate(body)
	if other.status != 0 {
		t.Fatalf("second open: %v", other.status)
	}
	if st := lockReq(b, other.id, 0, lock); st != smb2.StatusLockNotGranted {
		t.Fatalf("lock on the kept range: %v, want LOCK_NOT_GRANTED", st)
	}
	if st := lockReq(b, f, 0, unlock); st != 0 {
		t.Fatalf("unlock on the reattached open: %v", st)
	}
}
