package smb

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// durableCreateBody is a CREATE of name (OPEN_IF, read/write, no sharing)
// with the oplock level and create contexts given.
func durableCreateBody(name string, oplock uint8, options uint32, ctxs ...smb2.CreateContext) []byte {
	n := utf16le.Encode(name)
	nameLen := (len(n) + 7) &^ 7
	var cb []byte
	for i, c := range ctxs {
		do := (16 + len(c.Name) + 7) &^ 7 // the data, 8-aligned after the name
		e := make([]byte, do+len(c.Data))
		binary.LittleEndian.PutUint16(e[4:], 16)
		binary.LittleEndian.PutUint16(e[6:], uint16(len(c.Name)))
		if len(c.Data) > 0 {
			binary.LittleEndian.PutUint16(e[10:], uint16(do))
		}
		binary.LittleEndian.PutUint32(e[12:], uint32(len(c.Data)))
		copy(e[16:], c.Name)
		copy(e[do:], c.Data)
		if i < len(ctxs)-1 {
			e = append(e, make([]byte, (8-len(e)%8)%8)...)
			binary.LittleEndian.PutUint32(e, uint32(len(e)))
		}
		cb = append(cb, e...)
	}
	b := make([]byte, 56+nameLen+len(cb))
	binary.LittleEndian.PutUint16(b, 57)
	b[3] = oplock
	binary.LittleEndian.PutUint32(b[4:], smb2.ImpersonationImpersonation)
	binary.LittleEndian.PutUint32(b[24:], smb2.GenericRead|smb2.GenericWrite|smb2.Delete)
	binary.LittleEndian.PutUint32(b[36:], smb2.FileOpenIf)
	binary.LittleEndian.PutUint32(b[40:], options)
	binary.LittleEndian.PutUint16(b[44:], smb2.HeaderSize+56)
	binary.LittleEndian.PutUint16(b[46:], uint16(len(n)))
	if len(cb) > 0 {
		binary.LittleEndian.PutUint32(b[48:], uint32(smb2.HeaderSize+56+nameLen))
		binary.LittleEndian.PutUint32(b[52:], uint32(len(cb)))
	}
	copy(b[56:], n)
	copy(b[56+nameLen:], cb)
	return b
}

type createResult struct {
	status smb2.Status
	oplock uint8
	action uint32
	id     smb2.FileID
	ctxs   map[string][]byte
}

func (w *wireClient) durableCreate(body []byte) createResult {
	w.t.Helper()
	h, msg := w.roundTrip(smb2.Create, body, false, false)
	r := createResult{status: smb2.Status(h.Status), ctxs: map[string][]byte{}}
	if r.status != smb2.StatusSuccess {
		return r
	}
	b := msg[smb2.HeaderSize:]
	r.oplock = b[2]
	r.action = binary.LittleEndian.Uint32(b[4:])
	r.id = smb2.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}
	off, n := binary.LittleEndian.Uint32(b[80:]), binary.LittleEndian.Uint32(b[84:])
	if n == 0 {
		return r
	}
	c := msg[off : off+n]
	for {
		no, nl := binary.LittleEndian.Uint16(c[4:]), binary.LittleEndian.Uint16(c[6:])
		do, dl := binary.LittleEndian.Uint16(c[10:]), binary.LittleEndian.Uint32(c[12:])
		r.ctxs[string(c[no:no+nl])] = c[do : uint32(do)+dl]
		next := binary.LittleEndian.Uint32(c)
		if next == 0 {
			return r
		}
		c = c[next:]
	}
}

func closeBody(id smb2.FileID) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint16(b, 24)
	binary.LittleEndian.PutUint64(b[8:], id.Persistent)
	binary.LittleEndian.PutUint64(b[16:], id.Volatile)
	return b
}

func dhnq() smb2.CreateContext {
	return smb2.CreateContext{Name: smb2.CreateDurableHandleRequest, Data: make([]byte, 16)}
}

func dhnc(id smb2.FileID) smb2.CreateContext {
	d := make([]byte, 16)
	binary.LittleEndian.PutUint64(d, id.Persistent)
	binary.LittleEndian.PutUint64(d[8:], id.Volatile)
	return smb2.CreateContext{Name: smb2.CreateDurableReconnect, Data: d}
}

// login dials srv as user and connects to share "s".
func durableLogin(t *testing.T, srv *Server, user string) *wireClient {
	t.Helper()
	w := dial(t, srv)
	w.mustSetup(user, 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatalf("tree connect: %v", st)
	}
	return w
}

// waitDisconnected waits until the durable open with persistent id pid is
// kept without a connection.
func waitDisconnected(t *testing.T, srv *Server, pid uint64) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if o := srv.state.DurableOpen(pid); o != nil {
			o.share.mu.Lock()
			disc := o.isDisconnected()
			o.share.mu.Unlock()
			if disc {
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("open %#x was not kept after the disconnect", pid)
}

func newDurableServer(t *testing.T) (*Server, vfs.FS) {
	srv := newTokenServer(t)
	return srv, srv.Shares[0].FS
}

// A durable (DHnQ) open with a batch oplock survives the loss of its
// connection and is reattached, with the same FileId and oplock, by a
// DHnC on a new connection of the same user; another user is refused,
// and an open still attached cannot be taken.
func TestDurableV1Reconnect(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	r := a.durableCreate(durableCreateBody("d.txt", smb2.OplockLevelBatch, 0, dhnq()))
	if r.status != smb2.StatusSuccess || r.oplock != smb2.OplockLevelBatch {
		t.Fatalf("create: %v oplock %#x", r.status, r.oplock)
	}
	if _, ok := r.ctxs[smb2.CreateDurableHandleRequest]; !ok {
		t.Fatal("no DHnQ response context")
	}
	if st := a.status(smb2.Write, writeBody(r.id, []byte("hello"))); st != smb2.StatusSuccess {
		t.Fatalf("write: %v", st)
	}
	// Still attached: a reconnect is refused (smbtorture durable-open.reopen1).
	if got := a.durableCreate(durableCreateBody("d.txt", 0, 0, dhnc(r.id))); got.status != smb2.StatusObjectNameNotFound {
		t.Fatalf("reconnect while attached: %v", got.status)
	}
	a.c.Close()
	waitDisconnected(t, srv, r.id.Persistent)

	bob := durableLogin(t, srv, "bob")
	if got := bob.durableCreate(durableCreateBody("d.txt", 0, 0, dhnc(r.id))); got.status != smb2.StatusAccessDenied {
		t.Fatalf("another user's reconnect: %v, want ACCESS_DENIED", got.status)
	}
	unknown := smb2.FileID{Persistent: 0xdead, Volatile: 0xbeef}
	if got := bob.durableCreate(durableCreateBody("d.txt", 0, 0, dhnc(unknown))); got.status != smb2.StatusObjectNameNotFound {
		t.Fatalf("unknown file id: %v", got.status)
	}

	b := durableLogin(t, srv, "alice")
	got := b.durableCreate(durableCreateBody("ignored-name", 0x78, 0x12345678, dhnc(r.id)))
	if got.status != smb2.StatusSuccess {
		t.Fatalf("reconnect: %v", got.status)
	}
	if got.id != r.id || got.oplock != smb2.OplockLevelBatch || got.action != fileOpened {
		t.Fatalf("reconnect: id %v oplock %#x action %d; want id %v, batch, opened", got.id, got.oplock, got.action, r.id)
	}
	if st := b.status(smb2.Write, writeBody(got.id, []byte("!"))); st != smb2.StatusSuccess {
		t.Fatalf("write on the reattached open: %v", st)
	}
	if st := b.status(smb2.Close, closeBody(got.id)); st != smb2.StatusSuccess {
		t.Fatalf("close: %v", st)
	}
	// Closed for good: nothing left to reconnect to.
	if got := b.durableCreate(durableCreateBody("d.txt", 0, 0, dhnc(r.id))); got.status != smb2.StatusObjectNameNotFound {
		t.Fatalf("reconnect after close: %v", got.status)
	}
}

// DHnQ without a batch oplock or a handle lease is not granted; malformed
// or conflicting durable contexts are refused.
func TestDurableNotGranted(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	r := a.durableCreate(durableCreateBody("x.txt", smb2.OplockLevelExclusive, 0, dhnq()))
	if r.status != smb2.StatusSuccess {
		t.Fatal(r.status)
	}
	if _, ok := r.ctxs[smb2.CreateDurableHandleRequest]; ok {
		t.Fatal("durable granted with an exclusive oplock")
	}
	a.status(smb2.Close, closeBody(r.id))
	bad := smb2.CreateContext{Name: smb2.CreateDurableHandleRequest, Data: make([]byte, 8)}
	if got := a.durableCreate(durableCreateBody("y.txt", smb2.OplockLevelBatch, 0, bad)); got.status != smb2.StatusInvalidParameter {
		t.Fatalf("short DHnQ: %v", got.status)
	}
	q2 := smb2.DurableRequestV2{CreateGuid: [16]byte{1}}.Context()
	if got := a.durableCreate(durableCreateBody("y.txt", smb2.OplockLevelBatch, 0, dhnq(), q2)); got.status != smb2.StatusInvalidParameter {
		t.Fatalf("DHnQ with DH2Q: %v", got.status)
	}
}

// DH2Q: the server picks the timeout (60 s for 0, at most 300 s), the
// reconnect must name the CreateGuid, and the open is closed for real when
// its timeout runs out (delete-on-close applies then).
func TestDurableV2TimeoutAndExpiry(t *testing.T) {
	srv, fsys := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	for _, c := range []struct{ asked, want uint32 }{{0, 60000}, {5000, 5000}, {1 << 30, 300000}} {
		q := smb2.DurableRequestV2{Timeout: c.asked, CreateGuid: [16]byte{byte(c.asked), 7}}.Context()
		r := a.durableCreate(durableCreateBody("t.txt", smb2.OplockLevelBatch, 0, q))
		if r.status != smb2.StatusSuccess {
			t.Fatal(r.status)
		}
		resp, err := smb2.DecodeDurableResponseV2(r.ctxs[smb2.CreateDurableHandleV2])
		if err != nil || resp.Timeout != c.want || resp.Flags != 0 {
			t.Fatalf("timeout %d: response %+v %v, want %d", c.asked, resp, err, c.want)
		}
		a.status(smb2.Close, closeBody(r.id))
	}

	mem := srv.state.(*memState)
	mem.durables.mu.Lock()
	mem.durables.defTimeout = 150 * time.Millisecond
	mem.durables.mu.Unlock()
	guid := [16]byte{0xAA, 1, 2, 3}
	q := smb2.DurableRequestV2{CreateGuid: guid, Flags: smb2.DHandleFlagPersistent}.Context()
	r := a.durableCreate(durableCreateBody("gone.txt", smb2.OplockLevelBatch, smb2.FileDeleteOnClose, q))
	if r.status != smb2.StatusSuccess {
		t.Fatal(r.status)
	}
	if resp, _ := smb2.DecodeDurableResponseV2(r.ctxs[smb2.CreateDurableHandleV2]); resp.Flags&smb2.DHandleFlagPersistent != 0 {
		t.Fatal("persistent handle granted")
	}
	a.c.Close()
	waitDisconnected(t, srv, r.id.Persistent)
	if _, err := fsys.Stat(context.Background(), "gone.txt"); err != nil {
		t.Fatalf("the kept delete-on-close file is gone early: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	b := durableLogin(t, srv, "alice")
	c := smb2.DurableReconnectV2{FileId: r.id, CreateGuid: guid}.Context()
	if got := b.durableCreate(durableCreateBody("gone.txt", 0, 0, c)); got.status != smb2.StatusObjectNameNotFound {
		t.Fatalf("reconnect after the timeout: %v", got.status)
	}
	if _, err := fsys.Stat(context.Background(), "gone.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("delete-on-close did not apply at expiry: %v", err)
	}
}

// A DH2C must name the open's CreateGuid; LOGOFF keeps a durable open
// (MS-SMB2 3.3.5.6) and a reconnect on a new session of the same
// connection takes it back.
func TestDurableV2ReconnectAfterLogoff(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	guid := [16]byte{0x42, 9}
	r := a.durableCreate(durableCreateBody("v2.txt", smb2.OplockLevelBatch, 0, smb2.DurableRequestV2{CreateGuid: guid}.Context()))
	if r.status != smb2.StatusSuccess || r.ctxs[smb2.CreateDurableHandleV2] == nil {
		t.Fatalf("create: %v %v", r.status, r.ctxs)
	}
	if st := a.status(smb2.Logoff, echoBody); st != smb2.StatusSuccess {
		t.Fatalf("logoff: %v", st)
	}
	a.sid, a.tid = 0, 0
	a.mustSetup("alice", 0)
	if st := a.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	wrong := smb2.DurableReconnectV2{FileId: r.id, CreateGuid: [16]byte{1}}.Context()
	if got := a.durableCreate(durableCreateBody("v2.txt", 0, 0, wrong)); got.status != smb2.StatusObjectNameNotFound {
		t.Fatalf("DH2C with another CreateGuid: %v", got.status)
	}
	c := smb2.DurableReconnectV2{FileId: r.id, CreateGuid: guid}.Context()
	got := a.durableCreate(durableCreateBody("v2.txt", 0, 0, c))
	if got.status != smb2.StatusSuccess || got.id != r.id {
		t.Fatalf("DH2C: %v id %v, want %v", got.status, got.id, r.id)
	}
	if _, ok := got.ctxs[smb2.CreateDurableHandleV2]; ok {
		t.Fatal("a reconnect answered with a DH2Q context")
	}
	if st := a.status(smb2.Close, closeBody(got.id)); st != smb2.StatusSuccess {
		t.Fatalf("close: %v", st)
	}
}

// An open that would break the batch oplock of a disconnected durable open
// closes it instead (MS-SMB2 3.3.4.6) and gets the oplock itself; the old
// handle is then gone.
func TestDurablePurgedByConflictingOpen(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	r := a.durableCreate(durableCreateBody("p.txt", smb2.OplockLevelBatch, 0, dhnq()))
	if r.status != smb2.StatusSuccess {
		t.Fatal(r.status)
	}
	a.c.Close()
	waitDisconnected(t, srv, r.id.Persistent)
	b := durableLogin(t, srv, "alice")
	got := b.durableCreate(durableCreateBody("p.txt", smb2.OplockLevelBatch, 0))
	if got.status != smb2.StatusSuccess || got.oplock != smb2.OplockLevelBatch {
		t.Fatalf("open beside the disconnected one: %v oplock %#x", got.status, got.oplock)
	}
	if again := b.durableCreate(durableCreateBody("p.txt", 0, 0, dhnc(r.id))); again.status != smb2.StatusObjectNameNotFound {
		t.Fatalf("reconnect to the purged open: %v", again.status)
	}
}

// A CREATE replayed (SMB2_FLAGS_REPLAY_OPERATION) with the DH2Q CreateGuid
// of an open it made answers with that open instead of making another
// (MS-SMB2 3.3.5.9.10).
func TestDurableV2Replay(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	q := smb2.DurableRequestV2{CreateGuid: [16]byte{0x5E, 1}}.Context()
	body := durableCreateBody("r.txt", smb2.OplockLevelBatch, 0, q)
	r := a.durableCreate(body)
	if r.status != smb2.StatusSuccess {
		t.Fatal(r.status)
	}
	msg := make([]byte, smb2.HeaderSize+len(body))
	h := smb2.Header{Command: smb2.Create, Credits: 10, CreditCharge: 1, MessageID: a.mid,
		SessionID: a.sid, TreeID: a.tid, Flags: smb2.FlagsReplayOperation}
	a.mid++
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	if _, err := a.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)); err != nil {
		t.Fatal(err)
	}
	rh, resp := a.recv()
	if smb2.Status(rh.Status) != smb2.StatusSuccess {
		t.Fatalf("replay: %v", smb2.Status(rh.Status))
	}
	b := resp[smb2.HeaderSize:]
	id := smb2.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])}
	if id != r.id || b[2] != smb2.OplockLevelBatch {
		t.Fatalf("replay answered id %v oplock %#x, want the open %v with its batch oplock", id, b[2], r.id)
	}
}
