package smb

import (
	"context"
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
	w.closeFile(d)
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
