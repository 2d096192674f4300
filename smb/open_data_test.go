package smb

import (
	"context"
	"encoding/binary"
	"io/fs"
	"sync/atomic"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// openCounter counts the backend files opened through it.
type openCounter struct {
	vfs.FS
	opens atomic.Int32
}

func (c *openCounter) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (vfs.File, error) {
	c.opens.Add(1)
	return c.FS.OpenFile(ctx, name, flag, perm)
}

func (c *openCounter) Unwrap() vfs.FS { return c.FS }

// helloServer serves fsys, counting its opens, to a client connected to
// it; the share holds the file "f", "hello".
func helloServer(t *testing.T, fsys vfs.FS) (*wireClient, *openCounter, *Server) {
	t.Helper()
	fsc := &openCounter{FS: fsys}
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsc}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	w := connectNTLM(t, srv, "s")
	f := w.open("f", smb2.GenericAll, 0)
	w.write(f, 0, []byte("hello"))
	w.closeFile(f)
	return w, fsc, srv
}

// A CREATE without data access (a stat, a delete, an attribute change)
// opens no backend file; what the handle may not do it is still refused
// as before, and what it may do works.
func TestStatOpenKeepsNoFile(t *testing.T) {
	for bname, fsys := range attrBackends(t) {
		t.Run(bname, func(t *testing.T) {
			w, fsc, _ := helloServer(t, fsys)
			other := w.open("g", smb2.GenericAll, 0)
			key := w.resumeKey(other)

			fsc.opens.Store(0)
			st, h := w.openStatus("f", smb2.FileReadAttributes|smb2.FileWriteAttributes|smb2.Delete, smb2.FileOpen)
			if st != 0 {
				t.Fatalf("stat open: %v", st)
			}
			if st, out := w.queryInfo(h, fscc.FileStandardInformation, 24); st != 0 || binary.LittleEndian.Uint64(out[8:]) != 5 {
				t.Errorf("standard info: %v %x, want an end of file of 5", st, out)
			}
			eof := make([]byte, 8)
			zero := make([]byte, 16)
			le64(zero[8:], 5)
			flush := make([]byte, 24)
			le16(flush, 24)
			putFID(flush[8:], h)
			flushHdr, _ := w.roundTrip(smb2.Flush, flush, true, false)
			ccst, _ := w.copychunk(smb2.FsctlSrvCopychunkWrite, h, key, smb2.SrvCopychunk{Length: 1})
			for what, got := range map[string]smb2.Status{
				"read":             w.rawRead(h, 0, 1),
				"write":            w.rawWrite(h, 0, []byte("x")),
				"flush":            smb2.Status(flushHdr.Status),
				"end of file":      w.setInfoRaw(h, fscc.FileEndOfFileInformation, eof),
				"zero data":        first(w.ioctl(smb2.FsctlSetZeroData, h, zero, 0)),
				"allocated ranges": first(w.ioctl(smb2.FsctlQueryAllocatedRanges, h, zero, 64)),
				"copychunk target": ccst,
			} {
				if got != smb2.StatusAccessDenied {
					t.Errorf("%s on a stat open: %v, want ACCESS_DENIED", what, got)
				}
			}
			if st, _ := w.copychunk(smb2.FsctlSrvCopychunkWrite, other, w.resumeKey(h), smb2.SrvCopychunk{Length: 1}); st != smb2.StatusAccessDenied {
				t.Errorf("copychunk from a stat open: %v, want ACCESS_DENIED", st)
			}
			if st := w.setInfoRaw(h, fscc.FileDispositionInformation, []byte{1}); st != 0 {
				t.Fatalf("delete: %v", st)
			}
			w.closeFile(h)
			if _, err := fsys.Stat(context.Background(), "f"); err == nil {
				t.Error("the file is still there after its delete")
			}
			if n := fsc.opens.Load(); n != 0 {
				t.Errorf("the stat open opened %d backend files, want none", n)
			}
		})
	}
}

func first(st smb2.Status, _ []byte) smb2.Status { return st }

// A stat open's file is opened on its first need, once.
func TestStatOpenDataFile(t *testing.T) {
	w, fsc, srv := helloServer(t, vfs.NewMem())
	fsc.opens.Store(0)
	st, h := w.openStatus("f", smb2.FileReadAttributes, smb2.FileOpen)
	if st != 0 {
		t.Fatal(st)
	}
	var o *Open
	srv.sessions.mu.RLock()
	for _, sess := range srv.sessions.m {
		if o = sess.lookupOpen(h); o != nil {
			break
		}
	}
	srv.sessions.mu.RUnlock()
	if o == nil || !o.hasData() {
		t.Fatalf("open %v: %v", h, o)
	}
	ctx := context.Background()
	for range 2 {
		file, err := o.dataFile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 5)
		if n, err := file.ReadAt(b, 0); n != 5 || string(b) != "hello" {
			t.Fatalf("read %q, %v", b[:n], err)
		}
	}
	w.closeFile(h)
	if n := fsc.opens.Load(); n != 1 {
		t.Errorf("%d backend opens, want 1", n)
	}
}
