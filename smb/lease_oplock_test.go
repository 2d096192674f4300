package smb

import (
	"context"
	"fmt"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
)

// oplockCreateBody is a CREATE of name asking for an oplock level, with
// the given access, sharing and disposition, and no create contexts.
func oplockCreateBody(name string, level uint8, access, share, disp, options uint32) []byte {
	b := createBody(name)
	b[3] = level
	le32(b[24:], access)
	le32(b[32:], share)
	le32(b[36:], disp)
	le32(b[40:], options)
	return b
}

const shareAll = smb2.FileShareRead | smb2.FileShareWrite | smb2.FileShareDelete

// oplockOpen creates or opens name and returns the oplock level granted and
// the file id; it fails the test unless the CREATE succeeds at once.
func (w *wireClient) oplockOpen(name string, level uint8, access, options uint32) (uint8, smb2.FileID) {
	w.t.Helper()
	h, m := w.roundTrip(smb2.Create, oplockCreateBody(name, level, access, shareAll, smb2.FileOpenIf, options), true, false)
	if h.Status != 0 {
		w.t.Fatalf("create %s: %v", name, smb2.Status(h.Status))
	}
	got, id, _ := createLease(w.t, m)
	return got, id
}

// expectOplockBreak reads the next message and checks that it is an
// OPLOCK_BREAK notification for id to level.
func (w *wireClient) expectOplockBreak(id smb2.FileID, level uint8) {
	w.t.Helper()
	h, m := w.recv()
	if h.Command != smb2.OplockBreak || h.MessageID != ^uint64(0) {
		w.t.Fatalf("want an oplock break, got %v mid %#x status %v", h.Command, h.MessageID, smb2.Status(h.Status))
	}
	var b smb2.OplockBreakBody
	if err := b.Decode(m); err != nil {
		w.t.Fatal(err)
	}
	if b.FileId != id || b.OplockLevel != level {
		w.t.Fatalf("break of %v to %#x, want %v to %#x", b.FileId, b.OplockLevel, id, level)
	}
}

// expectQuiet checks that nothing (no break) is waiting for the client: the
// answer to an ECHO comes next.
func (w *wireClient) expectQuiet() {
	w.t.Helper()
	mid := w.send(smb2.Echo, []byte{4, 0, 0, 0})
	if h, _ := w.recv(); h.Command != smb2.Echo || h.MessageID != mid {
		w.t.Fatalf("want the ECHO answer, got %v mid %#x", h.Command, h.MessageID)
	}
}

func oplockAck(id smb2.FileID, level uint8) []byte {
	a := &smb2.OplockBreakBody{OplockLevel: level, FileId: id}
	b := make([]byte, a.Size())
	a.Encode(b)
	return b
}

// A write or a byte-range lock through an open breaks a level II oplock to
// none, the writer's own too, without waiting; acknowledging that break is
// a protocol error (MS-SMB2 3.3.5.22.1; smbtorture smb2.oplock.batch1,
// levelii500, brl1).
func TestOplockLevelIIBreaksOnOwnWriteAndLock(t *testing.T) {
	c := leaseClients(t, 1)[0]
	level, id := c.oplockOpen("w.txt", smb2.OplockLevelII, smb2.GenericRead|smb2.GenericWrite, 0)
	if level != smb2.OplockLevelII {
		t.Fatalf("level %#x, want level II", level)
	}
	mid := c.send(smb2.Write, writeBody(id, []byte("x")))
	c.expectOplockBreak(id, smb2.OplockLevelNone)
	if h, _ := c.recvFinal(mid); h.Status != 0 {
		t.Fatalf("write: %v", smb2.Status(h.Status))
	}
	if h, _ := c.roundTrip(smb2.OplockBreak, oplockAck(id, smb2.OplockLevelNone), true, false); smb2.Status(h.Status) != smb2.StatusInvalidOplockProtocol {
		t.Fatalf("ack of a break to none: %v", smb2.Status(h.Status))
	}
	// Nothing is left to break.
	c.write(id, 0, []byte("y"))
	c.expectQuiet()

	level, id2 := c.oplockOpen("l.txt", smb2.OplockLevelII, smb2.GenericRead|smb2.GenericWrite, 0)
	if level != smb2.OplockLevelII {
		t.Fatalf("level %#x, want level II", level)
	}
	b := make([]byte, 48)
	le16(b, 48)
	le16(b[2:], 1)
	putFID(b[8:], id2)
	le64(b[32:], 4)
	le32(b[40:], smb2.LockFlagExclusive|smb2.LockFlagFailImmediately)
	mid = c.send(smb2.Lock, b)
	c.expectOplockBreak(id2, smb2.OplockLevelNone)
	if h, _ := c.recvFinal(mid); h.Status != 0 {
		t.Fatalf("lock: %v", smb2.Status(h.Status))
	}
}

// An open for attributes only does not stand in the way of an exclusive
// oplock, but once it holds an oplock itself, later opens get level II
// (smbtorture smb2.oplock.batch9).
func TestOplockStatOpenHoldingOplock(t *testing.T) {
	cs := leaseClients(t, 2)
	c1, c2 := cs[0], cs[1]
	stat := uint32(smb2.FileReadAttributes | smb2.FileWriteAttributes | smb2.Synchronize)
	level, id1 := c1.oplockOpen("s.txt", smb2.OplockLevelBatch, stat, 0)
	if level != smb2.OplockLevelBatch {
		t.Fatalf("stat open: level %#x, want batch", level)
	}
	mid := c2.send(smb2.Create, oplockCreateBody("s.txt", smb2.OplockLevelBatch, smb2.GenericAll, shareAll, smb2.FileOpen, 0))
	if h, _ := c2.recv(); smb2.Status(h.Status) != smb2.StatusPending {
		t.Fatalf("second open: %v, want STATUS_PENDING first", smb2.Status(h.Status))
	}
	c1.expectOplockBreak(id1, smb2.OplockLevelII)
	if h, _ := c1.roundTrip(smb2.OplockBreak, oplockAck(id1, smb2.OplockLevelII), true, false); h.Status != 0 {
		t.Fatalf("ack: %v", smb2.Status(h.Status))
	}
	h, m := c2.recvFinal(mid)
	level, id2, _ := createLease(t, m)
	if h.Status != 0 || level != smb2.OplockLevelII {
		t.Fatalf("second open: %v level %#x", smb2.Status(h.Status), level)
	}
	c2.closeFile(id2)
	// Only the stat open, holding level II, is left.
	if level, _ := c2.oplockOpen("s.txt", smb2.OplockLevelBatch, smb2.GenericAll, 0); level != smb2.OplockLevelII {
		t.Fatalf("third open: level %#x, want level II", level)
	}
	c1.expectQuiet()
}

// An open that finds the file delete-pending fails before it breaks
// anything (smbtorture smb2.oplock.doc).
func TestOplockDeletePendingNoBreak(t *testing.T) {
	cs := leaseClients(t, 2)
	c1, c2 := cs[0], cs[1]
	level, id := c1.oplockOpen("d.txt", smb2.OplockLevelBatch, smb2.GenericAll, 0)
	if level != smb2.OplockLevelBatch {
		t.Fatalf("level %#x, want batch", level)
	}
	if st := c1.setInfoRaw(id, fscc.FileDispositionInformation, []byte{1}); st != 0 {
		t.Fatalf("delete on close: %v", st)
	}
	h, _ := c2.roundTrip(smb2.Create, oplockCreateBody("d.txt", smb2.OplockLevelNone, smb2.FileReadData, shareAll, smb2.FileOpen, 0), true, false)
	if smb2.Status(h.Status) != smb2.StatusDeletePending {
		t.Fatalf("open: %v, want DELETE_PENDING", smb2.Status(h.Status))
	}
	c1.expectQuiet()
}

// A rename into a directory that another open holds with DELETE access is
// a sharing violation; without it the rename goes through (smbtorture
// smb2.oplock.exclusive6, batch19).
func TestRenameIntoDirectoryOpenForDelete(t *testing.T) {
	c := leaseClients(t, 1)[0]
	_, dir := c.oplockOpen("dir", smb2.OplockLevelNone, smb2.GenericAll, smb2.FileDirectoryFile)
	level, f := c.oplockOpen(`dir\a.txt`, smb2.OplockLevelExclusive, smb2.GenericAll, 0)
	if level != smb2.OplockLevelExclusive {
		t.Fatalf("level %#x, want exclusive", level)
	}
	if st := c.setInfoRaw(f, fscc.FileRenameInformation, renameInfo(`dir\b.txt`, true)); st != smb2.StatusSharingViolation {
		t.Fatalf("rename beside a DELETE open of the directory: %v, want SHARING_VIOLATION", st)
	}
	c.expectQuiet()
	c.closeFile(dir)
	_, dir = c.oplockOpen("dir", smb2.OplockLevelNone, smb2.GenericRead, smb2.FileDirectoryFile)
	if st := c.setInfoRaw(f, fscc.FileRenameInformation, renameInfo(`dir\b.txt`, true)); st != 0 {
		t.Fatalf("rename: %v", st)
	}
	c.expectQuiet()
	c.closeFile(dir)
}

// Lease breaks go to the client's oldest connection that is still up
// (smbtorture smb2.lease.v2_complex1), unless the client sent no
// ClientGuid.
func TestLeaseBreakConn(t *testing.T) {
	var tab leaseConns
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	c1, c2, c3 := &conn{ctx: ctx1}, &conn{ctx: ctx2}, &conn{ctx: context.Background()}
	guid := [16]byte{1}
	tab.addConn(guid, c1)
	tab.addConn(guid, c2)
	tab.addConn(guid, c1)
	if got := tab.breakConn(guid, c3); got != c1 {
		t.Fatalf("break went to %p, want the oldest connection %p", got, c1)
	}
	cancel1()
	if got := tab.breakConn(guid, c3); got != c2 {
		t.Fatalf("break went to %p, want %p once the first is gone", got, c2)
	}
	if got := tab.breakConn([16]byte{2}, c3); got != c3 {
		t.Fatalf("unknown client: %p, want the open's own connection", got)
	}
	if got := tab.breakConn([16]byte{}, c3); got != c3 {
		t.Fatalf("no ClientGuid: %p, want the open's own connection", got)
	}
}

// The break notifications a rename sends reach the client before the
// answer to a request it sent after the rename (smbtorture
// smb2.lease.rename_wait): requests are served concurrently, but a SET_INFO
// holds back later answers until its breaks are out.
func TestRenameBreakBeforeLaterAnswers(t *testing.T) {
	c := leaseClients(t, 1)[0]
	rh := smb2.LeaseReadCaching | smb2.LeaseHandleCaching
	for i := 0; i < 10; i++ {
		src, dst := fmt.Sprintf("src%d.txt", i), fmt.Sprintf("dst%d.txt", i)
		key1, key2 := byte(2*i+1), byte(2*i+2)
		body := leaseCreateBody(src, key1, rh)
		le32(body[24:], smb2.GenericAll) // DELETE, to rename
		h, m := c.roundTrip(smb2.Create, body, true, false)
		if h.Status != 0 {
			t.Fatalf("create: %v", smb2.Status(h.Status))
		}
		_, id1, _ := createLease(t, m)
		h, m = c.roundTrip(smb2.Create, leaseCreateBody(src, key2, rh), true, false)
		if _, _, l := createLease(t, m); h.Status != 0 || l == nil || l.State != rh {
			t.Fatalf("second open: %v %+v", smb2.Status(h.Status), l)
		}
		rmid := c.send(smb2.SetInfo, setInfoBody(id1, fscc.FileRenameInformation, renameInfo(dst, true)))
		cmid := c.send(smb2.Create, oplockCreateBody(dst, 0, smb2.GenericRead, shareAll, smb2.FileOpen, 0))
		h, m = c.recv()
		if h.Command != smb2.OplockBreak || m[smb2.HeaderSize+8] != key2 {
			t.Fatalf("round %d: want the break of lease %d first, got %v mid %#x %v", i, key2, h.Command, h.MessageID, smb2.Status(h.Status))
		}
		if h, _ := c.recv(); h.MessageID != cmid || smb2.Status(h.Status) != smb2.StatusObjectNameNotFound {
			t.Fatalf("round %d: open of the target: mid %#x %v", i, h.MessageID, smb2.Status(h.Status))
		}
		amid := c.send(smb2.OplockBreak, leaseAckBody(key2, smb2.LeaseReadCaching))
		got := map[uint64]smb2.Status{}
		for len(got) < 2 {
			h, _ := c.recv()
			got[h.MessageID] = smb2.Status(h.Status)
		}
		if got[amid] != 0 || got[rmid] != 0 {
			t.Fatalf("round %d: ack %v, rename %v", i, got[amid], got[rmid])
		}
	}
}
