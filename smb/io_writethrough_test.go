package smb

import (
	"context"
	"io/fs"
	"sync/atomic"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// syncCounter is a backend that counts the commits to stable storage
// (File.Sync) of the files it opens.
type syncCounter struct {
	vfs.FS
	syncs atomic.Int64
}

func (s *syncCounter) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := s.FS.OpenFile(ctx, name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &syncCountingFile{File: f, n: &s.syncs}, nil
}

type syncCountingFile struct {
	vfs.File
	n *atomic.Int64
}

func (f *syncCountingFile) Sync() error {
	f.n.Add(1)
	return f.File.Sync()
}

// Data written through (the WRITE's SMB2_WRITEFLAG_WRITE_THROUGH, or an
// open created with FILE_WRITE_THROUGH) and data flushed is committed to
// stable storage before the answer (MS-SMB2 3.3.5.13, 3.3.5.11); other
// writes are left to the backend.
func TestWriteThroughAndFlushCommit(t *testing.T) {
	back := &syncCounter{FS: vfs.NewMem()}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: back}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	step := func(what string, want int64, do func()) {
		t.Helper()
		before := back.syncs.Load()
		do()
		if got := back.syncs.Load() - before; (got > 0) != (want > 0) {
			t.Fatalf("%s: %d commits, want %d", what, got, want)
		}
	}
	f := w.open("plain.txt", smb2.GenericAll, 0)
	step("plain write", 0, func() { w.write(f, 0, []byte("plain")) })
	step("write-through write", 1, func() {
		b := writeBody(f, []byte("through"))
		le32(b[44:], 0x1) // SMB2_WRITEFLAG_WRITE_THROUGH
		if h, _ := w.roundTrip(smb2.Write, b, true, false); h.Status != 0 {
			t.Fatalf("write: %v", smb2.Status(h.Status))
		}
	})
	step("flush", 1, func() {
		if h, _ := w.roundTrip(smb2.Flush, closeBody(f), true, false); h.Status != 0 {
			t.Fatalf("flush: %v", smb2.Status(h.Status))
		}
	})
	wt := w.open("through.txt", smb2.GenericAll, smb2.FileWriteThrough)
	step("write on a FILE_WRITE_THROUGH open", 1, func() { w.write(wt, 0, []byte("data")) })
}
