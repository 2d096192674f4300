package smb

import (
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// lockReq sends one LOCK request with the given elements and returns its
// status.
func (w *wireClient) lockReq(f smb2.FileID, seq uint32, els ...smb2.LockElement) smb2.Status {
	w.t.Helper()
	b := make([]byte, 24+24*len(els))
	le16(b, 48)
	le16(b[2:], uint16(len(els)))
	le32(b[4:], seq)
	putFID(b[8:], f)
	for i, e := range els {
		p := b[24+24*i:]
		le64(p, e.Offset)
		le64(p[8:], e.Length)
		le32(p[16:], e.Flags)
	}
	h, _ := w.roundTrip(smb2.Lock, b, true, false)
	return smb2.Status(h.Status)
}

const (
	lkShared = smb2.LockFlagShared | smb2.LockFlagFailImmediately
	lkExcl   = smb2.LockFlagExclusive | smb2.LockFlagFailImmediately
	lkUnlock = smb2.LockFlagUnlock
)

// Byte-range locks stack and unlock as Windows does (MS-SMB2 3.3.5.14,
// MS-FSA 2.1.5.7).
func TestLockSemantics(t *testing.T) {
	w, _ := fsctlServer(t)
	h := w.open("f", smb2.GenericAll, 0)
	h2 := w.open("f", smb2.GenericAll, 0)
	el := func(off, n uint64, flags uint32) smb2.LockElement {
		return smb2.LockElement{Offset: off, Length: n, Flags: flags}
	}
	steps := []struct {
		what string
		f    smb2.FileID
		els  []smb2.LockElement
		want smb2.Status
	}{
		{"shared", h, []smb2.LockElement{el(0, 10, lkShared)}, 0},
		{"exclusive on own shared", h, []smb2.LockElement{el(0, 10, lkExcl)}, smb2.StatusLockNotGranted},
		{"unlock shared", h, []smb2.LockElement{el(0, 10, lkUnlock)}, 0},
		{"exclusive", h, []smb2.LockElement{el(0, 10, lkExcl)}, 0},
		{"shared on own exclusive", h, []smb2.LockElement{el(0, 10, lkShared)}, 0},
		{"shared by another handle", h2, []smb2.LockElement{el(5, 1, lkShared)}, smb2.StatusLockNotGranted},
		{"unlock twice", h, []smb2.LockElement{el(0, 10, lkUnlock), el(0, 10, lkUnlock)}, 0},
		{"range not locked", h, []smb2.LockElement{el(0, 10, lkUnlock)}, smb2.StatusRangeNotLocked},
		{"last byte of the range", h, []smb2.LockElement{el(^uint64(0), 1, lkExcl)}, 0},
		{"last byte, other handle", h2, []smb2.LockElement{el(^uint64(0), 1, lkExcl)}, smb2.StatusLockNotGranted},
		{"past 2^64", h2, []smb2.LockElement{el(^uint64(0), 2, lkExcl)}, smb2.StatusInvalidLockRange},
		{"two, one may wait", h, []smb2.LockElement{el(20, 1, lkShared), el(30, 1, smb2.LockFlagShared)}, smb2.StatusInvalidParameter},
		{"second conflicts: none kept", h2, []smb2.LockElement{el(40, 1, lkExcl), el(^uint64(0), 1, lkExcl)}, smb2.StatusLockNotGranted},
		{"first was released", h, []smb2.LockElement{el(40, 1, lkExcl)}, 0},
		{"unlock then bad element", h, []smb2.LockElement{el(40, 1, lkUnlock), el(50, 1, lkExcl)}, smb2.StatusInvalidParameter},
		{"the unlock stays done", h2, []smb2.LockElement{el(40, 1, lkExcl)}, 0},
	}
	for _, s := range steps {
		if got := w.lockReq(s.f, 0, s.els...); got != s.want {
			t.Errorf("%s: %v, want %v", s.what, got, s.want)
		}
	}
}

// A durable open verifies lock sequences: a replayed request succeeds
// without effect (MS-SMB2 3.3.5.14).
func TestLockSequenceReplay(t *testing.T) {
	srv, _ := newDurableServer(t)
	w := durableLogin(t, srv, "alice")
	res := w.durableCreate(durableCreateBody("r", smb2.OplockLevelBatch, 0, dhnq()))
	if res.status != 0 || res.oplock != smb2.OplockLevelBatch {
		t.Fatalf("durable create: %v oplock %d", res.status, res.oplock)
	}
	f := res.id
	lock := smb2.LockElement{Offset: 100, Length: 100, Flags: lkExcl}
	unlock := smb2.LockElement{Offset: 100, Length: 100, Flags: lkUnlock}
	seq := uint32(1<<4 | 1)
	for i, s := range []struct {
		seq  uint32
		el   smb2.LockElement
		want smb2.Status
	}{
		{seq, lock, 0},
		{seq, lock, 0},   // replay
		{seq, unlock, 0}, // replay: still locked
		{seq + 1, lock, smb2.StatusLockNotGranted},
		{0x001, unlock, 0}, // bucket 0: no verification
		{0x001, unlock, smb2.StatusRangeNotLocked},
	} {
		if got := w.lockReq(f, s.seq, s.el); got != s.want {
			t.Errorf("step %d: %v, want %v", i, got, s.want)
		}
	}
}

// Over an SMB 3.x connection that offered multichannel, every open
// verifies lock sequences (MS-SMB2 3.3.5.14), so a LOCK replayed on
// another channel is not applied twice; without multichannel a plain open
// does not, and the same request is a second lock.
func TestLockSequenceMultichannel(t *testing.T) {
	for _, multi := range []bool{true, false} {
		srv := &Server{
			Shares:              []Share{{Name: "s", FS: vfs.NewMem()}},
			Auth:                auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
			DisableMultiChannel: !multi,
		}
		t.Cleanup(func() { srv.Close() })
		w := connectNTLM(t, srv, "s")
		f := w.open("f", smb2.GenericAll, 0)
		lock := smb2.LockElement{Offset: 100, Length: 100, Flags: lkExcl}
		seq := uint32(1<<4 | 1)
		if st := w.lockReq(f, seq, lock); st != 0 {
			t.Fatalf("multichannel %v: lock: %v", multi, st)
		}
		want := smb2.StatusLockNotGranted
		if multi {
			want = 0 // a replay: succeeds without effect
		}
		if st := w.lockReq(f, seq, lock); st != want {
			t.Errorf("multichannel %v: same request again: %v, want %v", multi, st, want)
		}
		if multi {
			// A new number in the bucket is a new request.
			if st := w.lockReq(f, seq+1, lock); st != smb2.StatusLockNotGranted {
				t.Errorf("new sequence number: %v, want LOCK_NOT_GRANTED", st)
			}
		}
	}
}
