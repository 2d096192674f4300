package smb

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// send writes a request (signed once the client has keys) and returns its
// MessageId; recv reads the
// next message, whatever it answers (lease breaks come unasked).
func (w *wireClient) send(cmd smb2.Command, body []byte) uint64 {
	w.t.Helper()
	msg := make([]byte, smb2.HeaderSize+len(body))
	mid := w.mid
	h := smb2.Header{Command: cmd, Credits: 10, CreditCharge: 1, MessageID: mid, SessionID: w.sid, TreeID: w.tid}
	w.mid++
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	if w.signer != nil {
		w.signer.Sign(msg)
	}
	if _, err := w.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)); err != nil {
		w.t.Fatal(err)
	}
	return mid
}

func (w *wireClient) recv() (smb2.Header, []byte) {
	w.t.Helper()
	if _, err := io.ReadFull(w.c, w.hdrBuf[:]); err != nil {
		w.t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(w.hdrBuf[:]))
	if _, err := io.ReadFull(w.c, resp); err != nil {
		w.t.Fatal(err)
	}
	var h smb2.Header
	if err := h.Decode(resp); err != nil {
		w.t.Fatal(err)
	}
	return h, resp
}

// recvFinal reads until the final answer to mid, skipping STATUS_PENDING.
func (w *wireClient) recvFinal(mid uint64) (smb2.Header, []byte) {
	w.t.Helper()
	for {
		h, m := w.recv()
		if h.MessageID == mid && smb2.Status(h.Status) != smb2.StatusPending {
			return h, m
		}
		if h.MessageID != mid {
			w.t.Fatalf("unexpected message %v mid %#x", h.Command, h.MessageID)
		}
	}
}

// leaseCreateBody is a CREATE (OPEN_IF, share all) asking for a version 2
// lease with key and state.
func leaseCreateBody(name string, key byte, state uint32) []byte {
	n := utf16le.Encode(name)
	nameLen := (len(n) + 7) &^ 7
	lease := smb2.Lease{Key: [16]byte{key}, State: state, V2: true}.Context()
	ctx := make([]byte, 24+len(lease.Data))
	binary.LittleEndian.PutUint16(ctx[4:], 16)
	binary.LittleEndian.PutUint16(ctx[6:], 4)
	binary.LittleEndian.PutUint16(ctx[10:], 24)
	binary.LittleEndian.PutUint32(ctx[12:], uint32(len(lease.Data)))
	copy(ctx[16:], "RqLs")
	copy(ctx[24:], lease.Data)
	b := make([]byte, 56+nameLen+len(ctx))
	binary.LittleEndian.PutUint16(b, 57)
	b[3] = smb2.OplockLevelLease
	binary.LittleEndian.PutUint32(b[4:], smb2.ImpersonationImpersonation)
	binary.LittleEndian.PutUint32(b[24:], smb2.GenericRead|smb2.GenericWrite)
	binary.LittleEndian.PutUint32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	binary.LittleEndian.PutUint32(b[36:], smb2.FileOpenIf)
	binary.LittleEndian.PutUint16(b[44:], smb2.HeaderSize+56)
	binary.LittleEndian.PutUint16(b[46:], uint16(len(n)))
	binary.LittleEndian.PutUint32(b[48:], uint32(smb2.HeaderSize+56+nameLen))
	binary.LittleEndian.PutUint32(b[52:], uint32(len(ctx)))
	copy(b[56:], n)
	copy(b[56+nameLen:], ctx)
	return b
}

// createLease reads a CREATE response: the oplock level, the file id and
// the lease granted (if any).
func createLease(t *testing.T, msg []byte) (uint8, smb2.FileID, *smb2.Lease) {
	t.Helper()
	b := msg[smb2.HeaderSize:]
	id := smb2.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}
	off, n := binary.LittleEndian.Uint32(b[80:]), binary.LittleEndian.Uint32(b[84:])
	if n == 0 {
		return b[2], id, nil
	}
	c := msg[off : off+n]
	doff, dlen := binary.LittleEndian.Uint16(c[10:]), binary.LittleEndian.Uint32(c[12:])
	if string(c[16:20]) != "RqLs" {
		t.Fatalf("context %q", c[16:20])
	}
	l, err := smb2.DecodeLease(c[doff : uint32(doff)+dlen])
	if err != nil {
		t.Fatal(err)
	}
	return b[2], id, &l
}

func leaseAckBody(key byte, state uint32) []byte {
	a := smb2.LeaseBreakAck{LeaseKey: [16]byte{key}, LeaseState: state}
	b := make([]byte, a.Size())
	a.Encode(b)
	return b
}

func writeBody(id smb2.FileID, data []byte) []byte { return writeAtBody(id, 0, data) }

// writeAtBody is a WRITE of data at off.
func writeAtBody(id smb2.FileID, off uint64, data []byte) []byte {
	b := make([]byte, 48+len(data))
	binary.LittleEndian.PutUint16(b, 49)
	binary.LittleEndian.PutUint16(b[2:], smb2.HeaderSize+48)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(data)))
	binary.LittleEndian.PutUint64(b[8:], off)
	binary.LittleEndian.PutUint64(b[16:], id.Persistent)
	binary.LittleEndian.PutUint64(b[24:], id.Volatile)
	copy(b[48:], data)
	return b
}

func leaseClients(t *testing.T, n int) []*wireClient {
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	var out []*wireClient
	for i := 0; i < n; i++ {
		w := connectNTLM(t, srv, "s")
		out = append(out, w)
	}
	return out
}

const rwh = smb2.LeaseReadCaching | smb2.LeaseHandleCaching | smb2.LeaseWriteCaching

// A lease is granted RWH to a lone open; a second client's open breaks it
// to RH (acknowledgement required) and waits for the acknowledgement; a
// write breaks the other lease's read caching.
func TestLeaseGrantBreakAck(t *testing.T) {
	cs := leaseClients(t, 2)
	c1, c2 := cs[0], cs[1]

	h, m := c1.roundTrip(smb2.Create, leaseCreateBody("f.txt", 1, rwh), true, false)
	if h.Status != 0 {
		t.Fatalf("create: %v", smb2.Status(h.Status))
	}
	level, id1, l := createLease(t, m)
	if level != smb2.OplockLevelLease || l == nil || l.State != rwh || !l.V2 || l.Epoch != 1 {
		t.Fatalf("first open: level %#x lease %+v", level, l)
	}

	// The same key on another file is refused.
	if h, _ := c1.roundTrip(smb2.Create, leaseCreateBody("g.txt", 1, rwh), true, false); smb2.Status(h.Status) != smb2.StatusInvalidParameter {
		t.Fatalf("key reuse: %v", smb2.Status(h.Status))
	}
	// The same key on the same file shares the lease.
	h, m = c1.roundTrip(smb2.Create, leaseCreateBody("f.txt", 1, smb2.LeaseReadCaching), true, false)
	if _, _, l := createLease(t, m); h.Status != 0 || l == nil || l.State != rwh {
		t.Fatalf("same key: %v %+v", smb2.Status(h.Status), l)
	}

	mid := c2.send(smb2.Create, leaseCreateBody("f.txt", 2, rwh))
	if h, _ := c2.recv(); smb2.Status(h.Status) != smb2.StatusPending {
		t.Fatalf("contending open: %v, want STATUS_PENDING first", smb2.Status(h.Status))
	}
	h, m = c1.recv()
	if h.Command != smb2.OplockBreak || h.MessageID != ^uint64(0) {
		t.Fatalf("want a lease break, got %v mid %#x", h.Command, h.MessageID)
	}
	b := m[smb2.HeaderSize:]
	if got := binary.LittleEndian.Uint16(b); got != 44 {
		t.Fatalf("break size %d", got)
	}
	flags, cur, next := binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[24:]), binary.LittleEndian.Uint32(b[28:])
	if flags != smb2.NotifyBreakLeaseFlagAckRequired || cur != rwh || next != rwh&^smb2.LeaseWriteCaching || b[8] != 1 {
		t.Fatalf("break flags %#x %#x -> %#x key %d", flags, cur, next, b[8])
	}
	if epoch := binary.LittleEndian.Uint16(b[2:]); epoch != 2 {
		t.Fatalf("break epoch %d, want 2", epoch)
	}

	// Acknowledgements that do not match are refused.
	if h, _ := c1.roundTrip(smb2.OplockBreak, leaseAckBody(1, rwh), true, false); smb2.Status(h.Status) != smb2.StatusRequestNotAccepted {
		t.Fatalf("ack to more than offered: %v", smb2.Status(h.Status))
	}
	if h, _ := c1.roundTrip(smb2.OplockBreak, leaseAckBody(9, 0), true, false); smb2.Status(h.Status) != smb2.StatusObjectNameNotFound {
		t.Fatalf("ack of an unknown key: %v", smb2.Status(h.Status))
	}
	if h, _ := c1.roundTrip(smb2.OplockBreak, leaseAckBody(1, next), true, false); h.Status != 0 {
		t.Fatalf("ack: %v", smb2.Status(h.Status))
	}
	if h, _ := c1.roundTrip(smb2.OplockBreak, leaseAckBody(1, next), true, false); smb2.Status(h.Status) != smb2.StatusUnsuccessful {
		t.Fatalf("second ack: %v", smb2.Status(h.Status))
	}
	h, m = c2.recvFinal(mid)
	if h.Status != 0 {
		t.Fatalf("contending open: %v", smb2.Status(h.Status))
	}
	_, id2, l := createLease(t, m)
	if l == nil || l.State != smb2.LeaseReadCaching|smb2.LeaseHandleCaching {
		t.Fatalf("contending open got %+v, want RH", l)
	}
	_ = id1

	// A write through the second lease breaks the first to none.
	wmid := c2.send(smb2.Write, writeBody(id2, []byte("x")))
	h, m = c1.recv()
	b = m[smb2.HeaderSize:]
	if h.Command != smb2.OplockBreak || binary.LittleEndian.Uint32(b[24:]) != next || binary.LittleEndian.Uint32(b[28:]) != 0 {
		t.Fatalf("write break: %v %x", h.Command, b[:32])
	}
	if h, _ := c2.recvFinal(wmid); h.Status != 0 {
		t.Fatalf("write: %v", smb2.Status(h.Status))
	}
}

// Oplocks: a lone open gets batch; a second open breaks it to level II and
// gets level II itself.
func TestOplockBreakToLevelII(t *testing.T) {
	cs := leaseClients(t, 2)
	c1, c2 := cs[0], cs[1]
	body := func(level uint8) []byte {
		b := leaseCreateBody("o.txt", 0, 0)[:56+16]
		b[3] = level
		binary.LittleEndian.PutUint32(b[48:], 0)
		binary.LittleEndian.PutUint32(b[52:], 0)
		return b
	}
	h, m := c1.roundTrip(smb2.Create, body(smb2.OplockLevelBatch), true, false)
	level, id1, _ := createLease(t, m)
	if h.Status != 0 || level != smb2.OplockLevelBatch {
		t.Fatalf("first open: %v level %#x", smb2.Status(h.Status), level)
	}
	mid := c2.send(smb2.Create, body(smb2.OplockLevelBatch))
	if h, _ := c2.recv(); smb2.Status(h.Status) != smb2.StatusPending {
		t.Fatalf("second open: %v, want STATUS_PENDING first", smb2.Status(h.Status))
	}
	h, m = c1.recv()
	if h.Command != smb2.OplockBreak || m[smb2.HeaderSize+2] != smb2.OplockLevelII {
		t.Fatalf("want a break to level II, got %v %x", h.Command, m[smb2.HeaderSize:smb2.HeaderSize+4])
	}
	ack := &smb2.OplockBreakBody{OplockLevel: smb2.OplockLevelII, FileId: id1}
	ab := make([]byte, ack.Size())
	ack.Encode(ab)
	if h, _ := c1.roundTrip(smb2.OplockBreak, ab, true, false); h.Status != 0 {
		t.Fatalf("ack: %v", smb2.Status(h.Status))
	}
	h, m = c2.recvFinal(mid)
	if level, _, _ := createLease(t, m); h.Status != 0 || level != smb2.OplockLevelII {
		t.Fatalf("second open: %v level %#x", smb2.Status(h.Status), level)
	}
}
