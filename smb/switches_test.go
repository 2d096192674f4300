package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Server.DisableLeasing ("smb2 leases = no"): the LEASING capability is not
// offered, a CREATE asking for a lease gets neither lease nor oplock, and
// an oplock request is still granted.
func TestDisableLeasing(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		srv := &Server{
			Shares:         []Share{{Name: "s", FS: vfs.NewMem()}},
			Auth:           auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
			DisableLeasing: disabled,
		}
		t.Cleanup(func() { srv.Close() })
		_, neg := dialWith(t, srv, smb2.GlobalCapLeasing|smb2.GlobalCapDirectoryLeasing, 1)
		caps := binary.LittleEndian.Uint32(neg[smb2.HeaderSize+24:])
		if got := caps&smb2.GlobalCapLeasing != 0; got == disabled {
			t.Errorf("disabled=%v: LEASING offered %v", disabled, got)
		}
		if disabled && caps&smb2.GlobalCapDirectoryLeasing != 0 {
			t.Error("DIRECTORY_LEASING offered with leasing off")
		}

		w := connectNTLM(t, srv, "s")
		h, m := w.roundTrip(smb2.Create, leaseCreateBody("f.txt", 1, rwh), true, false)
		if h.Status != 0 {
			t.Fatalf("create: %v", smb2.Status(h.Status))
		}
		level, _, l := createLease(t, m)
		switch {
		case disabled && (level != smb2.OplockLevelNone || l != nil):
			t.Errorf("leasing off: level %#x lease %+v, want none", level, l)
		case !disabled && (level != smb2.OplockLevelLease || l == nil || l.State != rwh):
			t.Errorf("leasing on: level %#x lease %+v, want RWH", level, l)
		}
		if st := srv.Stats(); disabled && st.Leases != 0 {
			t.Errorf("leasing off: %d leases held", st.Leases)
		}
		h, m = w.roundTrip(smb2.Create, durableCreateBody("g.txt", smb2.OplockLevelBatch, 0), true, false)
		if h.Status != 0 {
			t.Fatalf("create: %v", smb2.Status(h.Status))
		}
		if level, _, _ := createLease(t, m); level != smb2.OplockLevelBatch {
			t.Errorf("disabled=%v: oplock request granted %#x, want batch", disabled, level)
		}
	}
}

// Server.DisableDurableHandles ("durable handles = no"): a DHnQ with a
// batch oplock, which is otherwise durable, gets an ordinary open: no
// response context, nothing kept when the connection is lost.
func TestDisableDurableHandles(t *testing.T) {
	for _, disabled := range []bool{false, true} {
		srv, _ := newDurableServer(t)
		srv.DisableDurableHandles = disabled
		a := durableLogin(t, srv, "alice")
		r := a.durableCreate(durableCreateBody("d.txt", smb2.OplockLevelBatch, 0, dhnq()))
		if r.status != smb2.StatusSuccess || r.oplock != smb2.OplockLevelBatch {
			t.Fatalf("create: %v oplock %#x", r.status, r.oplock)
		}
		_, granted := r.ctxs[smb2.CreateDurableHandleRequest]
		if granted == disabled {
			t.Errorf("disabled=%v: DHnQ response context %v", disabled, granted)
		}
		if kept := srv.state.DurableOpen(r.id.Persistent) != nil; kept == disabled {
			t.Errorf("disabled=%v: open in the durable table %v", disabled, kept)
		}
	}
}
