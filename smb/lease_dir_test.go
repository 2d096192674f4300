package smb

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// dirLeaseCreateBody is leaseCreateBody for a directory (FILE_DIRECTORY_FILE)
// or, with parent set, a file whose CREATE names parent as its
// ParentLeaseKey (SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET).
func dirLeaseCreateBody(name string, key byte, state uint32, dir bool, parent byte) []byte {
	l := smb2.Lease{Key: [16]byte{key}, State: state, V2: true}
	if parent != 0 {
		l.Flags = smb2.LeaseFlagParentLeaseKeySet
		l.ParentLeaseKey = [16]byte{parent}
	}
	var options uint32
	if dir {
		options = smb2.FileDirectoryFile
	}
	b := durableCreateBody(name, smb2.OplockLevelLease, options, l.Context())
	if dir {
		binary.LittleEndian.PutUint32(b[24:], smb2.GenericRead)
	}
	binary.LittleEndian.PutUint32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	return b
}

// leaseBreak reads the next message of w, which must be a LEASE_BREAK
// notification: key, flags, current and new state.
func leaseBreak(t *testing.T, w *wireClient) (byte, uint32, uint32, uint32) {
	t.Helper()
	h, m := w.recv()
	if h.Command != smb2.OplockBreak || h.MessageID != ^uint64(0) {
		t.Fatalf("want a lease break, got %v mid %#x status %v", h.Command, h.MessageID, smb2.Status(h.Status))
	}
	b := m[smb2.HeaderSize:]
	return b[8], binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[24:]), binary.LittleEndian.Uint32(b[28:])
}

// A directory lease is RH at most. A client that creates a file in the
// directory naming the directory's lease as the parent keeps its lease; a
// create under another key (the same client's) breaks it to none. A
// second client's write does not break it, the close after the write does,
// and so does a delete.
func TestDirectoryLeaseParentBreak(t *testing.T) {
	cs := leaseClients(t, 2)
	c1, c2 := cs[0], cs[1]
	const rh = smb2.LeaseReadCaching | smb2.LeaseHandleCaching

	// The directory: RWH asked, RH granted.
	h, m := c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rwh, true, 0), true, false)
	if h.Status != 0 {
		t.Fatalf("create dir: %v", smb2.Status(h.Status))
	}
	if _, _, l := createLease(t, m); l == nil || l.State != rh {
		t.Fatalf("directory lease %+v, want RH", l)
	}

	// A file created under the directory's lease as parent: no break (the
	// answer to the CREATE is the next message; a break would precede it).
	h, m = c1.roundTrip(smb2.Create, dirLeaseCreateBody(`d\a.txt`, 3, rwh, false, 2), true, false)
	if h.Command != smb2.Create || h.Status != 0 {
		t.Fatalf("create with parent key: %v %v", h.Command, smb2.Status(h.Status))
	}
	_, idA, l := createLease(t, m)
	if l == nil || l.State != rwh || l.Flags&smb2.LeaseFlagParentLeaseKeySet == 0 || l.ParentLeaseKey != [16]byte{2} {
		t.Fatalf("file lease %+v, want RWH with the parent key", l)
	}

	// Another key of the same client, no parent: the directory's lease
	// breaks to none before the CREATE is answered.
	mid := c1.send(smb2.Create, dirLeaseCreateBody(`d\b.txt`, 4, rwh, false, 0))
	key, flags, cur, next := leaseBreak(t, c1)
	if key != 2 || cur != rh || next != 0 || flags != smb2.NotifyBreakLeaseFlagAckRequired {
		t.Fatalf("break of key %d %#x -> %#x flags %#x, want 2 RH -> none, ack required", key, cur, next, flags)
	}
	if h, _ := c1.recvFinal(mid); h.Status != 0 {
		t.Fatalf("create b.txt: %v", smb2.Status(h.Status))
	}
	if h, _ := c1.roundTrip(smb2.OplockBreak, leaseAckBody(2, 0), true, false); h.Status != 0 {
		t.Fatalf("ack: %v", smb2.Status(h.Status))
	}

	// Re-armed by another open under the same key.
	h, m = c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rh, true, 0), true, false)
	_, idD2, l := createLease(t, m)
	if h.Status != 0 || l == nil || l.State != rh {
		t.Fatalf("re-arm: %v %+v", smb2.Status(h.Status), l)
	}
	c1.closeFile(idD2)

	// Another client writes a file of the directory: the write breaks
	// nothing of the directory, the close does.
	idC := c2.open(`d\c.txt`, smb2.FileReadData|smb2.FileWriteData, 0)
	// c.txt's creation broke the lease again; acknowledge and re-arm.
	key, _, _, next = leaseBreak(t, c1)
	if key != 2 || next != 0 {
		t.Fatalf("creation by another client: break of key %d to %#x", key, next)
	}
	c1.roundTrip(smb2.OplockBreak, leaseAckBody(2, 0), true, false)
	h, m = c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rh, true, 0), true, false)
	if _, id, l := createLease(t, m); h.Status != 0 || l == nil || l.State != rh {
		t.Fatalf("re-arm: %v %+v", smb2.Status(h.Status), l)
	} else {
		c1.closeFile(id)
	}
	c2.write(idC, 0, []byte("data"))
	// Nothing for c1 yet: its own request is answered first.
	if h, _ := c1.roundTrip(smb2.Echo, []byte{4, 0, 0, 0}, true, false); h.Command != smb2.Echo {
		t.Fatalf("after another client's write c1 got %v", h.Command)
	}
	c2.closeFile(idC)
	if key, _, cur, next := leaseBreak(t, c1); key != 2 || cur != rh || next != 0 {
		t.Fatalf("close after write: break of key %d %#x -> %#x", key, cur, next)
	}
	c1.roundTrip(smb2.OplockBreak, leaseAckBody(2, 0), true, false)

	// The file created under the parent key is deleted by its own client:
	// no break; by another client: a break.
	h, m = c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rh, true, 0), true, false)
	if _, id, l := createLease(t, m); h.Status != 0 || l == nil || l.State != rh {
		t.Fatalf("re-arm: %v %+v", smb2.Status(h.Status), l)
	} else {
		c1.closeFile(id)
	}
	if st := c1.setInfoRaw(idA, 13, []byte{1}); st != 0 { // FileDispositionInformation
		t.Fatalf("delete a.txt: %v", st)
	}
	c1.closeFile(idA) // answered, with no break before it
	idB := c2.open(`d\c.txt`, smb2.Delete, 0)
	if st := c2.setInfoRaw(idB, 13, []byte{1}); st != 0 {
		t.Fatalf("delete c.txt: %v", st)
	}
	c2.closeFile(idB)
	if key, _, cur, next := leaseBreak(t, c1); key != 2 || cur != rh || next != 0 {
		t.Fatalf("delete by another client: break of key %d %#x -> %#x", key, cur, next)
	}
}

// With directory leasing turned off a directory gets no lease.
func TestDirectoryLeaseOff(t *testing.T) {
	srv := &Server{
		Shares:                  []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:                    auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		DisableDirectoryLeasing: true,
	}
	t.Cleanup(func() { srv.Close() })
	c1 := connectNTLM(t, srv, "s")
	h, m := c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rwh, true, 0), true, false)
	if level, _, l := createLease(t, m); h.Status != 0 || l != nil || level != smb2.OplockLevelNone {
		t.Fatalf("directory open: %v level %#x lease %+v", smb2.Status(h.Status), level, l)
	}
}

// On a backend that watches for changes (Dir on Linux), a file created in
// the directory behind cifsd's back breaks the directory's lease too.
func TestDirectoryLeaseOutsideChange(t *testing.T) {
	root, d := watchingDir(t)
	c1, _ := notifyPair(t, d)
	h, m := c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rwh, true, 0), true, false)
	if _, _, l := createLease(t, m); h.Status != 0 || l == nil || l.State == 0 {
		t.Fatalf("directory lease: %v %+v", smb2.Status(h.Status), l)
	}
	// The first directory lease starts the backend's watch; give it a moment.
	time.Sleep(100 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(root, "d", "outside.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if key, _, _, next := leaseBreak(t, c1); key != 2 || next != 0 {
		t.Fatalf("outside create: break of key %d to %#x", key, next)
	}
}

// Another client renaming a file out of the directory, into it, or setting
// a file's attributes breaks the directory's lease; each time the holder
// acknowledges and opens the directory again to get RH back.
func TestDirectoryLeaseRenameAndSetInfo(t *testing.T) {
	cs := leaseClients(t, 2)
	c1, c2 := cs[0], cs[1]
	const rh = smb2.LeaseReadCaching | smb2.LeaseHandleCaching
	arm := func() {
		t.Helper()
		h, m := c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rh, true, 0), true, false)
		_, id, l := createLease(t, m)
		if h.Status != 0 || l == nil || l.State != rh {
			t.Fatalf("directory lease: %v %+v", smb2.Status(h.Status), l)
		}
		c1.closeFile(id)
	}
	broken := func(what string) {
		t.Helper()
		if key, _, cur, next := leaseBreak(t, c1); key != 2 || cur != rh || next != 0 {
			t.Fatalf("%s: break of key %d %#x -> %#x, want 2 RH -> none", what, key, cur, next)
		}
		if h, _ := c1.roundTrip(smb2.OplockBreak, leaseAckBody(2, 0), true, false); h.Status != 0 {
			t.Fatalf("%s: ack: %v", what, smb2.Status(h.Status))
		}
	}
	// The directory stays open under the lease throughout.
	h, m := c1.roundTrip(smb2.Create, dirLeaseCreateBody("d", 2, rh, true, 0), true, false)
	if _, _, l := createLease(t, m); h.Status != 0 || l == nil || l.State != rh {
		t.Fatalf("directory lease: %v %+v", smb2.Status(h.Status), l)
	}
	f := c2.open(`d\f.txt`, smb2.GenericAll, 0)
	broken("create")
	arm()
	if st := c2.setInfoRaw(f, fscc.FileRenameInformation, renameInfo(`g.txt`, true)); st != 0 {
		t.Fatalf("rename out: %v", st)
	}
	broken("rename out")
	arm()
	if st := c2.setInfoRaw(f, fscc.FileRenameInformation, renameInfo(`d\h.txt`, true)); st != 0 {
		t.Fatalf("rename in: %v", st)
	}
	broken("rename in")
	arm()
	bi := make([]byte, 40)
	binary.LittleEndian.PutUint32(bi[32:], fscc.FileAttributeHidden)
	if st := c2.setInfoRaw(f, fscc.FileBasicInformation, bi); st != 0 {
		t.Fatalf("set attributes: %v", st)
	}
	broken("set attributes")
	// Opening a file of the directory changes nothing it lists.
	arm()
	c2.closeFile(c2.open(`d\h.txt`, smb2.FileReadData, 0))
	if h, _ := c1.roundTrip(smb2.Echo, []byte{4, 0, 0, 0}, true, false); h.Command != smb2.Echo {
		t.Fatalf("after an open for reading c1 got %v", h.Command)
	}
}

// DIRECTORY_LEASING is announced only to a client that offers it, as
// ENCRYPTION is at 3.0: impacket (up to 0.13), which does not, fails every
// open at the share root when told.
func TestDirectoryLeasingCapabilityNeedsTheClients(t *testing.T) {
	srv := &Server{Shares: []Share{{Name: "s", FS: vfs.NewMem()}}}
	t.Cleanup(func() { srv.Close() })
	for _, offer := range []bool{false, true} {
		var offered uint32
		if offer {
			offered = smb2.GlobalCapDirectoryLeasing
		}
		_, resp := dialWith(t, srv, offered, 0)
		caps := binary.LittleEndian.Uint32(resp[smb2.HeaderSize+24:])
		if got := caps&smb2.GlobalCapDirectoryLeasing != 0; got != offer {
			t.Errorf("client offers directory leasing: %v; server announces it: %v", offer, got)
		}
	}
}
