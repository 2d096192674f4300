package smb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// queryDirBody is a QUERY_DIRECTORY of "*" at class, restarting the scan.
func queryDirBody(dir smb2.FileID, class uint8, maxOut uint32) []byte {
	pat := utf16le.Encode("*")
	b := make([]byte, 32+len(pat))
	le16(b, 33)
	b[2], b[3] = class, smb2.QueryDirRestartScans
	putFID(b[8:], dir)
	le16(b[24:], smb2.HeaderSize+32)
	le16(b[26:], uint16(len(pat)))
	le32(b[28:], maxOut)
	copy(b[32:], pat)
	return b
}

// setInfoBody is a SET_INFO of a file information class.
func setInfoBody(f smb2.FileID, class uint8, in []byte) []byte {
	b := make([]byte, 32+len(in))
	le16(b, 33)
	b[2], b[3] = smb2.InfoFile, class
	le32(b[4:], uint32(len(in)))
	le16(b[8:], smb2.HeaderSize+32)
	putFID(b[16:], f)
	copy(b[32:], in)
	return b
}

// answers reads n responses and returns their statuses by MessageId.
func (w *wireClient) answers(n int) map[uint64]smb2.Status {
	w.t.Helper()
	got := make(map[uint64]smb2.Status)
	for len(got) < n {
		h, _ := w.recv()
		if smb2.Status(h.Status) == smb2.StatusPending {
			continue
		}
		got[h.MessageID] = smb2.Status(h.Status)
	}
	return got
}

// A CLOSE sent right behind a QUERY_DIRECTORY on the same handle, without
// waiting for its answer, ends the handle after it: the listing is answered
// in full, then the close (smbtorture compound_find.compound_find_close;
// requests are otherwise served concurrently). A layer slows the
// QUERY_DIRECTORY down before it reaches the handle, which a CLOSE served
// out of order would have closed by then.
func TestCloseWaitsForEarlierRequestsOnItsHandle(t *testing.T) {
	fsys := vfs.NewMem()
	ctx := context.Background()
	if err := fsys.Mkdir(ctx, "d", 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		f, err := fsys.OpenFile(ctx, fmt.Sprintf("d/file%04d", i), vfs.O_RDWR|vfs.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	slow := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			if req.Header.Command == smb2.QueryDirectory {
				time.Sleep(20 * time.Millisecond)
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{slow},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	for round := range 5 {
		d := w.open("d", smb2.GenericRead, smb2.FileDirectoryFile)
		q := w.send(smb2.QueryDirectory, queryDirBody(d, fscc.FileBothDirectoryInformation, 65536))
		c := w.send(smb2.Close, closeBody(d))
		got := w.answers(2)
		if got[q] != smb2.StatusSuccess || got[c] != smb2.StatusSuccess {
			t.Fatalf("round %d: QUERY_DIRECTORY %v, CLOSE %v; want both to succeed", round, got[q], got[c])
		}
	}
}

// A rename of a named stream, pipelined between WRITEs on the same handle,
// runs after the WRITEs sent before it and before those sent after it: no
// byte is written to the stream's old file once its data has been copied
// to the new name, whatever the scheduling.
func TestStreamRenameOrderedWithIO(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			for round := range 5 {
				fname := fmt.Sprintf("f%d", round)
				s := w.open(fname+":a", smb2.GenericAll, 0)
				// 16 WRITEs of 64 bytes at successive offsets, the rename
				// between the 8th and the 9th, none waiting. Small: the Dir
				// backend keeps a file's streams in its xattrs, which hold
				// about 4 KiB in all on ext4 (less on other file systems),
				// and the old and new streams both exist while the rename
				// copies; a stream past that room is
				// TestStreamWritePastBackendRoomIsDiskFull's.
				const size = 64
				chunk := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, size) }
				write := func(i int) {
					w.send(smb2.Write, writeAtBody(s, uint64(i*size), chunk(i)))
				}
				for i := range 8 {
					write(i)
				}
				w.send(smb2.SetInfo, setInfoBody(s, fscc.FileRenameInformation, renameInfo(":b", false)))
				for i := 8; i < 16; i++ {
					write(i)
				}
				for mid, st := range w.answers(17) {
					if st != smb2.StatusSuccess {
						t.Fatalf("round %d: request %d: %v", round, mid, st)
					}
				}
				w.closeFile(s)
				b := w.open(fname+":b", smb2.GenericRead, 0)
				for i := range 16 {
					if data := w.read(b, uint64(i*size), size); !bytes.Equal(data, chunk(i)) {
						t.Fatalf("round %d: the renamed stream lost WRITE %d", round, i)
					}
				}
				w.closeFile(b)
				if st, _ := w.createWith(fname+":a", smb2.GenericRead, smb2.FileShareRead, smb2.FileOpen, 0); st != smb2.StatusObjectNameNotFound {
					t.Fatalf("round %d: old stream name opens: %v", round, st)
				}
			}
		})
	}
}

// sendEncrypted writes a request in a transform header and returns its
// MessageId; recvDecrypted reads the next message and decrypts it if it is
// encrypted.
func (w *wireClient) sendEncrypted(cmd smb2.Command, body []byte, charge uint16) uint64 {
	w.t.Helper()
	msg := make([]byte, smb2.HeaderSize+len(body))
	mid := w.mid
	h := smb2.Header{Command: cmd, Credits: 10, CreditCharge: charge, MessageID: mid, SessionID: w.sid, TreeID: w.tid}
	w.mid += uint64(charge)
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	out := make([]byte, smbcrypto.TransformHeaderSize+len(msg), smbcrypto.TransformHeaderSize+len(msg)+16)
	binary.LittleEndian.PutUint64(out[44:], w.sid)
	if err := w.enc.Encrypt(out[smbcrypto.TransformHeaderSize:], out[:smbcrypto.TransformHeaderSize], msg); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(out))), out...)); err != nil {
		w.t.Fatal(err)
	}
	return mid
}

func (w *wireClient) recvDecrypted() smb2.Header {
	w.t.Helper()
	if _, err := io.ReadFull(w.c, w.hdrBuf[:]); err != nil {
		w.t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(w.hdrBuf[:]), binary.BigEndian.Uint32(w.hdrBuf[:])+16)
	if _, err := io.ReadFull(w.c, resp); err != nil {
		w.t.Fatal(err)
	}
	if [4]byte(resp[:4]) == smbcrypto.TransformProtocolID {
		plain, err := w.dec.Decrypt(resp)
		if err != nil {
			w.t.Fatalf("decrypt response: %v", err)
		}
		resp = plain
	}
	var h smb2.Header
	if err := h.Decode(resp); err != nil {
		w.t.Fatal(err)
	}
	return h
}

// An encrypted WRITE too large for the reading goroutine to decrypt a copy
// of is ordered once its own goroutine has decrypted it: a CLOSE or a
// SET_INFO of the end of file sent right behind it (also encrypted, small
// enough to be looked into at once) runs after it. A layer slows the WRITE
// down before it reaches its handle, which a CLOSE or SET_INFO served out of
// order would have closed or truncated by then.
func TestEncryptedLargeWriteOrderedBeforeCloseAndSetInfo(t *testing.T) {
	fsys := vfs.NewMem()
	slow := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			if req.Header.Command == smb2.Write {
				time.Sleep(20 * time.Millisecond)
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{slow},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	data := bytes.Repeat([]byte("x"), 64<<10)
	finals := func(n int) map[uint64]smb2.Status {
		got := make(map[uint64]smb2.Status)
		for len(got) < n {
			h := w.recvDecrypted()
			if smb2.Status(h.Status) != smb2.StatusPending {
				got[h.MessageID] = smb2.Status(h.Status)
			}
		}
		return got
	}
	eof := make([]byte, 8)
	binary.LittleEndian.PutUint64(eof, 10)
	for round := range 3 {
		name := fmt.Sprintf("f%d", round)
		f := w.open(name, smb2.GenericAll, 0)
		wr := w.sendEncrypted(smb2.Write, writeAtBody(f, 0, data), 1)
		si := w.sendEncrypted(smb2.SetInfo, setInfoBody(f, fscc.FileEndOfFileInformation, eof), 1)
		got := finals(2)
		if got[wr] != smb2.StatusSuccess || got[si] != smb2.StatusSuccess {
			t.Fatalf("round %d: WRITE %v, SET_INFO %v; want both to succeed", round, got[wr], got[si])
		}
		if fi, err := fsys.Stat(context.Background(), name); err != nil || fi.Size() != 10 {
			t.Fatalf("round %d: size after WRITE then end of file 10: %v %v", round, fi, err)
		}
		wr = w.sendEncrypted(smb2.Write, writeAtBody(f, 0, data), 1)
		cl := w.sendEncrypted(smb2.Close, closeBody(f), 1)
		got = finals(2)
		if got[wr] != smb2.StatusSuccess || got[cl] != smb2.StatusSuccess {
			t.Fatalf("round %d: WRITE %v, CLOSE %v; want both to succeed", round, got[wr], got[cl])
		}
	}
}

// sendCancel sends a CANCEL of the request mid (MS-SMB2 2.2.30): it takes
// the request's MessageId and no credit.
func (w *wireClient) sendCancel(mid uint64) {
	w.t.Helper()
	msg := make([]byte, smb2.HeaderSize+4)
	h := smb2.Header{Command: smb2.Cancel, MessageID: mid, SessionID: w.sid, TreeID: w.tid}
	h.Encode(msg)
	msg[smb2.HeaderSize] = 4
	if w.signer != nil {
		w.signer.Sign(msg)
	}
	if _, err := w.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)); err != nil {
		w.t.Fatal(err)
	}
}

// A CANCEL of a pending CHANGE_NOTIFY is handled as it is read: the
// notify's final STATUS_CANCELLED comes before the answer to an ECHO sent
// right behind the CANCEL.
func TestCancelAnswersBeforeLaterRequests(t *testing.T) {
	fsys := vfs.NewMem()
	if err := fsys.Mkdir(context.Background(), "d", 0o755); err != nil {
		t.Fatal(err)
	}
	w := attrClient(t, fsys)
	d := w.open("d", smb2.GenericRead, smb2.FileDirectoryFile)
	for round := range 5 {
		n := w.pendingNotify(d, 0x17)
		w.sendCancel(n)
		e := w.send(smb2.Echo, []byte{4, 0, 0, 0})
		h, _ := w.recv()
		if h.MessageID != n || smb2.Status(h.Status) != smb2.StatusCancelled {
			t.Fatalf("round %d: first answer after CANCEL: mid %d %v, want the notify (%d) CANCELLED", round, h.MessageID, smb2.Status(h.Status), n)
		}
		if h, _ := w.recv(); h.MessageID != e || h.Status != 0 {
			t.Fatalf("round %d: then mid %d %v, want the ECHO (%d)", round, h.MessageID, smb2.Status(h.Status), e)
		}
	}
}

// A CANCEL that names a request read but not started yet (the second
// element of a compound whose first is still being served) cancels it when
// it starts: the CHANGE_NOTIFY ends CANCELLED instead of waiting for a
// change that never comes.
func TestCancelBeforeRequestStarts(t *testing.T) {
	fsys := vfs.NewMem()
	if err := fsys.Mkdir(context.Background(), "d", 0o755); err != nil {
		t.Fatal(err)
	}
	slow := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			if req.Header.Command == smb2.QueryInfo {
				time.Sleep(30 * time.Millisecond)
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{slow},
		// The compound goes unsigned (sendCompound).
		Signing: SigningEnabled,
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	d := w.open("d", smb2.GenericRead, smb2.FileDirectoryFile)
	qi := make([]byte, 40)
	le16(qi, 41)
	qi[2], qi[3] = smb2.InfoFile, fscc.FileBasicInformation
	le32(qi[4:], 4096)
	putFID(qi[24:], d)
	for round := range 3 {
		mids := w.writeCompound([]compoundElem{
			{cmd: smb2.QueryInfo, body: qi},
			{cmd: smb2.ChangeNotify, body: notifyBody(d, 0x17)},
		})
		w.sendCancel(mids[1])
		hs, _ := w.readCompound()
		if len(hs) != 2 || hs[0].Status != 0 {
			t.Fatalf("round %d: compound answered %+v", round, hs)
		}
		if smb2.Status(hs[1].Status) != smb2.StatusPending {
			if smb2.Status(hs[1].Status) != smb2.StatusCancelled {
				t.Fatalf("round %d: CHANGE_NOTIFY %v, want CANCELLED", round, smb2.Status(hs[1].Status))
			}
			continue
		}
		if h, _ := w.recv(); h.MessageID != mids[1] || smb2.Status(h.Status) != smb2.StatusCancelled {
			t.Fatalf("round %d: mid %d %v, want the CHANGE_NOTIFY (%d) CANCELLED", round, h.MessageID, smb2.Status(h.Status), mids[1])
		}
	}
}

// A CHANGE_NOTIFY is served in order on its directory handle: a second one
// sent right behind it waits until it has gone async, so the first takes
// the change (smb2.notify.double), and a CLOSE sent right behind one ends it
// with NOTIFY_CLEANUP rather than overtaking it (smb2.notify.dir). A layer
// slows every CHANGE_NOTIFY down before it reaches its handle.
func TestChangeNotifyKeepsOrderOnItsHandle(t *testing.T) {
	fsys := vfs.NewMem()
	if err := fsys.Mkdir(context.Background(), "d", 0o755); err != nil {
		t.Fatal(err)
	}
	slow := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			if req.Header.Command == smb2.ChangeNotify {
				time.Sleep(20 * time.Millisecond)
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{slow},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	other := connectNTLM(t, srv, "s") // makes the changes
	const fileName = 0x1
	for round := range 3 {
		d := w.open("d", smb2.GenericRead, smb2.FileDirectoryFile)
		n1 := w.send(smb2.ChangeNotify, notifyBody(d, fileName))
		n2 := w.send(smb2.ChangeNotify, notifyBody(d, fileName))
		for range 2 {
			if h, _ := w.recv(); smb2.Status(h.Status) != smb2.StatusPending {
				t.Fatalf("round %d: CHANGE_NOTIFY %d: %v, want PENDING", round, h.MessageID, smb2.Status(h.Status))
			}
		}
		other.closeFile(other.open(fmt.Sprintf(`d\f%d`, round), smb2.GenericAll, 0))
		if h, _ := w.recv(); h.MessageID != n1 || h.Status != 0 {
			t.Fatalf("round %d: the change answered %d (%v), want the first CHANGE_NOTIFY %d", round, h.MessageID, smb2.Status(h.Status), n1)
		}
		n3 := w.send(smb2.ChangeNotify, notifyBody(d, fileName))
		cl := w.send(smb2.Close, closeBody(d))
		got := w.answers(3)
		if got[n2] != smb2.StatusNotifyCleanup || got[n3] != smb2.StatusNotifyCleanup || got[cl] != smb2.StatusSuccess {
			t.Fatalf("round %d: CHANGE_NOTIFY %v and %v, CLOSE %v; want NOTIFY_CLEANUP twice, then SUCCESS", round, got[n2], got[n3], got[cl])
		}
	}
}

// A stream rename sent on one channel of a session never runs while a WRITE
// on the same handle runs on another channel: channels are not ordered
// against each other, but the rename is still exclusive on its handle, so
// every WRITE lands in the renamed stream, whichever way they interleave
// (and -race sees no unsynchronised swap of the handle's file).
func TestStreamRenameExcludesOtherChannel(t *testing.T) {
	srv := newTokenServer(t)
	first := dial(t, srv)
	first.mustSetup("alice", 0)
	first.useSessionKey()
	if st := first.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	second := dial(t, srv)
	second.useSessionKey()
	if st, _ := second.bind(first.sid, "alice", true); st != smb2.StatusSuccess {
		t.Fatalf("bind: %v", st)
	}
	second.tid = first.tid
	chunk := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 128) }
	for round := range 10 {
		fname := fmt.Sprintf("f%d", round)
		s := first.open(fname+":a", smb2.GenericAll, 0)
		for i := range 16 {
			first.send(smb2.Write, writeAtBody(s, uint64(i*128), chunk(i)))
			if i == 4 {
				second.send(smb2.SetInfo, setInfoBody(s, fscc.FileRenameInformation, renameInfo(":b", false)))
			}
		}
		for mid, st := range first.answers(16) {
			if st != smb2.StatusSuccess {
				t.Fatalf("round %d: WRITE %d: %v", round, mid, st)
			}
		}
		if st := second.answers(1); len(st) != 1 {
			t.Fatalf("round %d: rename: %v", round, st)
		} else {
			for _, st := range st {
				if st != smb2.StatusSuccess {
					t.Fatalf("round %d: rename: %v", round, st)
				}
			}
		}
		first.closeFile(s)
		b := first.open(fname+":b", smb2.GenericRead, 0)
		for i := range 16 {
			if data := first.read(b, uint64(i*128), 128); !bytes.Equal(data, chunk(i)) {
				t.Fatalf("round %d: the renamed stream lost WRITE %d", round, i)
			}
		}
		first.closeFile(b)
	}
}

// A request the connection's reader serves itself (a lone QUERY_INFO, with
// nothing else in progress) and that then waits does not stop the
// connection: a later request on the same connection is read and served
// while it waits, as a break acknowledgment must be while a CREATE waits
// for it. Here a layer holds the QUERY_INFO until it sees an ECHO sent
// after it; were the reading stuck behind the QUERY_INFO, the ECHO would
// never arrive and the layer would give up after its bound.
func TestWaitingRequestDoesNotStopItsConnection(t *testing.T) {
	started := make(chan struct{}, 1)
	echoed := make(chan struct{}, 1)
	releasedByEcho := make(chan bool, 1)
	hold := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			switch req.Header.Command {
			case smb2.QueryInfo:
				started <- struct{}{}
				select {
				case <-echoed:
					releasedByEcho <- true
				case <-time.After(10 * time.Second):
					releasedByEcho <- false
				}
			case smb2.Echo:
				select {
				case echoed <- struct{}{}:
				default:
				}
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{hold},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	f := w.open("f", smb2.GenericAll, 0)
	for round := range 3 {
		// A bound, so that a stuck connection fails the test rather than
		// hanging it: the answers are written to a net.Pipe, which blocks
		// its writer until the client reads.
		w.c.SetDeadline(time.Now().Add(30 * time.Second))
		q := w.send(smb2.QueryInfo, queryInfoBody(f, fscc.FileBasicInformation, 64))
		<-started // read, and being served, before the ECHO is sent
		e := w.send(smb2.Echo, echoBody)
		got := w.answers(2)
		if got[q] != smb2.StatusSuccess || got[e] != smb2.StatusSuccess {
			t.Fatalf("round %d: QUERY_INFO %v, ECHO %v; want both to succeed", round, got[q], got[e])
		}
		if !<-releasedByEcho {
			t.Fatalf("round %d: the ECHO was not read while the QUERY_INFO waited", round)
		}
	}
}

// queryInfoBody is a QUERY_INFO of a file information class.
func queryInfoBody(f smb2.FileID, class uint8, size uint32) []byte {
	b := make([]byte, 41)
	le16(b, 41)
	b[2], b[3] = smb2.InfoFile, class
	le32(b[4:], size)
	putFID(b[24:], f)
	return b
}

// A connection whose reader served requests itself idles, once it has
// waited readerParkAfter, on a goroutine with a fresh stack: serving grows
// a stack that the runtime never shrinks back, so without the hand-over
// every connection that had ever served a CREATE would keep that stack for
// as long as it idles.
func TestIdleConnectionsDropTheirGrownStacks(t *testing.T) {
	defer readerParkAfter.Store(readerParkAfter.Swap(int64(20 * time.Millisecond)))
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	const conns = 200
	stacks := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.StackInuse)
	}
	var ws []*wireClient
	for range conns {
		ws = append(ws, connectNTLM(t, srv, "s"))
	}
	before := stacks()
	for i, w := range ws {
		f := w.open(fmt.Sprintf("f%d", i), smb2.GenericAll, 0)
		w.queryInfo(f, fscc.FileAllInformation, 4096)
		w.closeFile(f)
	}
	grown := stacks()
	// Wait, with a bound, for the readers to hand their waits over.
	var after int64
	for range 100 {
		time.Sleep(50 * time.Millisecond)
		if after = stacks(); after-before < conns*1024 {
			break
		}
	}
	t.Logf("stacks: %d KiB before, %d KiB after serving, %d KiB idle again (%d connections)",
		before>>10, grown>>10, after>>10, conns)
	if per := (after - before) / conns; per >= 1024 {
		t.Fatalf("idle connections keep %d bytes of stack each after serving a CREATE", per)
	}
	// They still serve.
	for _, w := range ws {
		if h, _ := w.roundTrip(smb2.Echo, echoBody, true, false); h.Status != 0 {
			t.Fatalf("ECHO after idling: %v", smb2.Status(h.Status))
		}
	}
}

// The reader serves itself a lone quick request or a short compound of
// them (a stat: CREATE, QUERY_INFO, CLOSE), nothing else.
func TestServedInline(t *testing.T) {
	msg := func(cmds ...smb2.Command) []byte {
		var out []byte
		for i, cmd := range cmds {
			b := make([]byte, smb2.HeaderSize+8)
			h := smb2.Header{Command: cmd}
			if i < len(cmds)-1 {
				h.NextCommand = uint32(len(b))
			}
			h.Encode(b)
			out = append(out, b...)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		msg  []byte
		want bool
	}{
		{"create", msg(smb2.Create), true},
		{"echo", msg(smb2.Echo), true},
		{"stat compound", msg(smb2.Create, smb2.QueryInfo, smb2.Close), true},
		{"read", msg(smb2.Read), false},
		{"write", msg(smb2.Write), false},
		{"lock", msg(smb2.Lock), false},
		{"change notify", msg(smb2.ChangeNotify), false},
		{"compound with a read", msg(smb2.Create, smb2.Read, smb2.Close), false},
		{"long compound", msg(smb2.Create, smb2.QueryInfo, smb2.QueryInfo, smb2.QueryInfo, smb2.Close), false},
		{"truncated chain", msg(smb2.Create, smb2.Close)[:smb2.HeaderSize+8+10], false},
		{"short", msg(smb2.Create)[:20], false},
	} {
		if got := servedInline(tc.msg); got != tc.want {
			t.Errorf("%s: servedInline = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A request served by the reader that is about to wait for a break
// acknowledgment (readingMayWait) hands the reading on at once, not when
// the watch finds it waiting; the connection goes on serving.
func TestReadingMayWaitHandsTheReadingOn(t *testing.T) {
	type seen struct{ before, after uint64 }
	got := make(chan seen, 1)
	hold := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			if req.Header.Command == smb2.QueryInfo {
				w := &req.conn.inline
				s := seen{before: w.tok.Load()}
				readingMayWait(ctx)
				s.after = w.tok.Load()
				got <- s
			}
			return next.ServeSMB(ctx, req)
		})
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{hold},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	f := w.open("f", smb2.GenericAll, 0)
	// A request is served by a worker, not the reader, when the one
	// before it has not quite finished when it comes: only the rounds the
	// reader served count, and some must.
	inline := 0
	for round := 0; round < 50 && inline < 3; round++ {
		w.c.SetDeadline(time.Now().Add(30 * time.Second))
		w.queryInfo(f, fscc.FileBasicInformation, 64)
		s := <-got
		if s.before == 0 {
			continue
		}
		inline++
		if s.after != 0 {
			t.Fatalf("round %d: the reader still holds the reading after readingMayWait", round)
		}
	}
	if inline == 0 {
		t.Fatal("no QUERY_INFO was served by the reader")
	}
	w.closeFile(f)
}
