package smb

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// A Layer sees, through Request.Open, Identity and OnFinal, who acts on
// which open, and the final status of a request that went async: a
// CHANGE_NOTIFY answers STATUS_PENDING first and STATUS_NOTIFY_CLEANUP
// when its directory is closed.
func TestLayerSeesOpenIdentityAndFinalStatus(t *testing.T) {
	type seen struct {
		cmd    smb2.Command
		path   string
		user   string
		status smb2.Status
	}
	var mu sync.Mutex
	var got []seen
	finals := make(chan struct{}, 100)
	watch := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			in, _ := req.Open() // before the handler: a CLOSE's open is gone after
			id, _ := req.Identity()
			cmd := req.Header.Command
			req.OnFinal(func(resp *Response) {
				if cmd == smb2.Create {
					in, _ = req.Open() // the open the CREATE made
				}
				mu.Lock()
				got = append(got, seen{cmd, in.Path, id.User, resp.Status})
				mu.Unlock()
				finals <- struct{}{}
			})
			return next.ServeSMB(ctx, req)
		})
	}
	fsys := vfs.NewMem()
	if err := fsys.Mkdir(context.Background(), "d", 0o755); err != nil {
		t.Fatal(err)
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{watch},
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	d := w.open("d", smb2.GenericRead, smb2.FileDirectoryFile)
	n := w.send(smb2.ChangeNotify, notifyBody(d, 0x1))
	if h, _ := w.recv(); smb2.Status(h.Status) != smb2.StatusPending || h.MessageID != n {
		t.Fatalf("CHANGE_NOTIFY: %v, want STATUS_PENDING first", smb2.Status(h.Status))
	}
	w.closeInAnyOrder(d, n)
	for range 7 { // NEGOTIATE, 2 SESSION_SETUPs, TREE_CONNECT, CREATE, CHANGE_NOTIFY, CLOSE
		<-finals
	}
	want := []seen{
		{smb2.Create, "d", "u", smb2.StatusSuccess},
		{smb2.ChangeNotify, "d", "u", smb2.StatusNotifyCleanup},
		{smb2.Close, "d", "u", smb2.StatusSuccess},
	}
	mu.Lock()
	defer mu.Unlock()
	var files []seen
	for _, s := range got {
		if s.cmd == smb2.Create || s.cmd == smb2.ChangeNotify || s.cmd == smb2.Close {
			files = append(files, s)
		}
	}
	if len(files) != len(want) {
		t.Fatalf("layer saw %+v, want %+v", files, want)
	}
	for _, w := range want { // the CLOSE may finish before the notify's completion is sent
		if !slices.Contains(files, w) {
			t.Fatalf("layer saw %+v, want %+v", files, want)
		}
	}
}

// A Layer may answer with a Response of its own, a copy of the one from
// below: how the answer is sent (the session id of a SESSION_SETUP answer,
// the tree id of a TREE_CONNECT one, its signature, the async id of an
// interim STATUS_PENDING) is the request's, and survives the copy.
func TestLayerCopyingResponseKeepsHowItIsSent(t *testing.T) {
	copyLayer := func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, req *Request) *Response {
			r := next.ServeSMB(ctx, req)
			return &Response{Status: r.Status, Body: r.Body, Data: r.Data, Release: r.Release}
		})
	}
	fsys := vfs.NewMem()
	if err := fsys.Mkdir(context.Background(), "d", 0o755); err != nil {
		t.Fatal(err)
	}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
		Layers: []Layer{copyLayer},
	}
	t.Cleanup(func() { srv.Close() })
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close() })
	go srv.ServeConn(server)
	w := &wireClient{t: t, c: client}
	w.login("u", "p") // the session id comes with the first, interim answer
	if w.sid == 0 {
		t.Fatal("SESSION_SETUP answered without a session id")
	}
	h, m := w.treeConnect("s")
	if h.Status != 0 || h.TreeID == 0 {
		t.Fatalf("TREE_CONNECT: %v, tree id %d", smb2.Status(h.Status), h.TreeID)
	}
	if h.Flags&smb2.FlagsSigned == 0 || !w.signer.Verify(m) {
		t.Fatal("TREE_CONNECT answer to a signed request is not signed")
	}
	w.tid = h.TreeID
	d := w.open("d", smb2.GenericRead, smb2.FileDirectoryFile)
	mid := w.send(smb2.ChangeNotify, notifyBody(d, 0x1))
	h, m = w.recv()
	if h.MessageID != mid || smb2.Status(h.Status) != smb2.StatusPending || h.Flags&smb2.FlagsAsyncCommand == 0 {
		t.Fatalf("CHANGE_NOTIFY: %v flags %#x, want an async STATUS_PENDING", smb2.Status(h.Status), h.Flags)
	}
	if !w.signer.Verify(m) {
		t.Fatal("interim answer not signed")
	}
	async := h.AsyncID
	h, m = w.closeInAnyOrder(d, mid)
	if smb2.Status(h.Status) != smb2.StatusNotifyCleanup || h.AsyncID != async || !w.signer.Verify(m) {
		t.Fatalf("CHANGE_NOTIFY final: %v async id %d (want %d), signed %v",
			smb2.Status(h.Status), h.AsyncID, async, w.signer.Verify(m))
	}
}

// closeInAnyOrder closes f, on which the CHANGE_NOTIFY mid waits, and
// returns the notify's final answer; the CLOSE's answer and that one come
// in either order.
func (w *wireClient) closeInAnyOrder(f smb2.FileID, mid uint64) (smb2.Header, []byte) {
	w.t.Helper()
	b := make([]byte, 24)
	le16(b, 24)
	putFID(b[8:], f)
	closeMid := w.send(smb2.Close, b)
	var fh smb2.Header
	var fm []byte
	for range 2 {
		h, m := w.recv()
		switch h.MessageID {
		case closeMid:
			if h.Status != 0 {
				w.t.Fatalf("CLOSE: %v", smb2.Status(h.Status))
			}
		case mid:
			fh, fm = h, m
		default:
			w.t.Fatalf("unexpected answer to mid %d", h.MessageID)
		}
	}
	return fh, fm
}
