package smb

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// notifyPair serves fsys as share "s" to two logged-in clients: one to
// watch, one to change things.
func notifyPair(t *testing.T, fsys vfs.FS) (watcher, changer *wireClient) {
	t.Helper()
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	return connectNTLM(t, srv, "s"), connectNTLM(t, srv, "s")
}

// awaitNotify sends CHANGE_NOTIFY on dir, runs change, and returns the
// changes the request completes with as "action:name".
func awaitNotify(t *testing.T, w *wireClient, dir smb2.FileID, filter uint32, change func()) []string {
	t.Helper()
	mid := w.pendingNotify(dir, filter)
	change()
	h, resp := w.recvFinal(mid)
	if h.Status != 0 {
		t.Fatalf("CHANGE_NOTIFY completed with %v", smb2.Status(h.Status))
	}
	return notifyNames(t, resp)
}

// Attribute, time, size and data changes made through cifsd complete a
// CHANGE_NOTIFY that asked for them with FILE_ACTION_MODIFIED (3), on both
// backends.
func TestChangeNotifyReportsModifications(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w1, w2 := notifyPair(t, fsys)
			d := w1.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
			f := w2.open(`dir\f.txt`, smb2.GenericAll, 0)
			const filter = notifyChangeAttributes | notifyChangeLastWrite | notifyChangeSize
			got := awaitNotify(t, w1, d, filter, func() {
				if st := w2.setBasic(f, basicInfo{attrs: 0x2}); st != 0 { // HIDDEN
					t.Fatalf("set basic: %v", st)
				}
			})
			if strings.Join(got, ",") != "3:f.txt" {
				t.Fatalf("after SET_INFO: %q, want [3:f.txt]", got)
			}
			got = awaitNotify(t, w1, d, filter, func() { w2.write(f, 0, []byte("data")) })
			if strings.Join(got, ",") != "3:f.txt" {
				t.Fatalf("after WRITE: %q, want [3:f.txt]", got)
			}
		})
	}
}

// A file another program writes straight into the directory a Dir share
// serves is reported too (inotify on Linux), and only once for what cifsd
// itself creates.
func TestChangeNotifyReportsOutsideChanges(t *testing.T) {
	root, d := watchingDir(t)
	w1, w2 := notifyPair(t, d)
	dir := w1.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	// The first request starts the backend's watch; give it a moment.
	mid := w1.pendingNotify(dir, notifyChangeFileName)
	time.Sleep(100 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(root, "dir", "outside.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, resp := w1.recvFinal(mid)
	if got := strings.Join(notifyNames(t, resp), ","); h.Status != 0 || got != "1:outside.txt" {
		t.Fatalf("after an outside write: %v %q, want [1:outside.txt]", smb2.Status(h.Status), got)
	}
	// A file created through cifsd is reported by cifsd alone: after the
	// backend's delay, nothing more is buffered for it.
	got := awaitNotify(t, w1, dir, notifyChangeFileName, func() { w2.open(`dir\inside.txt`, smb2.GenericAll, 0) })
	if strings.Join(got, ",") != "1:inside.txt" {
		t.Fatalf("after a create through cifsd: %q", got)
	}
	time.Sleep(2 * outsideDelay)
	got = awaitNotify(t, w1, dir, notifyChangeFileName, func() {
		if err := os.Remove(filepath.Join(root, "dir", "outside.txt")); err != nil {
			t.Fatal(err)
		}
	})
	if strings.Join(got, ",") != "2:outside.txt" {
		t.Fatalf("after an outside removal: %q, want only [2:outside.txt]", got)
	}
}

// The handle's first CHANGE_NOTIFY fixes its buffer size: changes that did
// not fit a 1-byte first request make later, larger requests answer
// STATUS_NOTIFY_ENUM_DIR too, until the buffer is emptied; a buffer larger
// than the connection's MaxTransactSize is refused.
func TestChangeNotifyFirstRequestFixesBuffer(t *testing.T) {
	w1, w2 := notifyPair(t, vfs.NewMem())
	d := w1.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	small := notifyBody(d, notifyChangeFileName)
	le32(small[4:], 1)
	mid := w1.send(smb2.ChangeNotify, small)
	if h, _ := w1.recv(); smb2.Status(h.Status) != smb2.StatusPending {
		t.Fatalf("first CHANGE_NOTIFY: %v", smb2.Status(h.Status))
	}
	w2.open(`dir\a.txt`, smb2.GenericAll, 0)
	if h, _ := w1.recvFinal(mid); smb2.Status(h.Status) != smb2.StatusNotifyEnumDir {
		t.Fatalf("a change larger than the buffer: %v, want STATUS_NOTIFY_ENUM_DIR", smb2.Status(h.Status))
	}
	w2.open(`dir\b.txt`, smb2.GenericAll, 0)
	if h, _ := w1.roundTrip(smb2.ChangeNotify, notifyBody(d, notifyChangeFileName), true, false); smb2.Status(h.Status) != smb2.StatusNotifyEnumDir {
		t.Fatalf("a larger second request: %v, want STATUS_NOTIFY_ENUM_DIR (the first fixed the size)", smb2.Status(h.Status))
	}
	huge := notifyBody(d, notifyChangeFileName)
	le32(huge[4:], maxIOSize+1)
	if h, _ := w1.roundTrip(smb2.ChangeNotify, huge, true, false); smb2.Status(h.Status) != smb2.StatusInvalidParameter {
		t.Fatalf("OutputBufferLength past MaxTransactSize: %v, want STATUS_INVALID_PARAMETER", smb2.Status(h.Status))
	}
}

// Deleting a watched directory through another handle ends the pending
// CHANGE_NOTIFY with STATUS_DELETE_PENDING (smb2.notify.rmdir1-4).
func TestChangeNotifyDeletedDirectory(t *testing.T) {
	w1, w2 := notifyPair(t, vfs.NewMem())
	d := w1.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	mid := w1.send(smb2.ChangeNotify, notifyBody(d, notifyChangeFileName))
	if h, _ := w1.recv(); smb2.Status(h.Status) != smb2.StatusPending {
		t.Fatalf("CHANGE_NOTIFY: %v", smb2.Status(h.Status))
	}
	doomed := w2.open("dir", smb2.GenericAll, smb2.FileDirectoryFile|smb2.FileDeleteOnClose)
	w2.closeFile(doomed)
	if h, _ := w1.recvFinal(mid); smb2.Status(h.Status) != smb2.StatusDeletePending {
		t.Fatalf("after the directory was deleted: %v, want STATUS_DELETE_PENDING", smb2.Status(h.Status))
	}
}

// A CHANGE_NOTIFY on a directory already delete-pending (deleted through
// another handle while this one stays open) ends at once with
// STATUS_DELETE_PENDING instead of waiting for a change that cannot come:
// smb2.notify.rmdir2 sends the delete right behind the request, and the
// server may serve it first.
func TestChangeNotifyAlreadyDeletedDirectory(t *testing.T) {
	w1, w2 := notifyPair(t, vfs.NewMem())
	d := w1.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	doomed := w2.open("dir", smb2.GenericAll, smb2.FileDirectoryFile|smb2.FileDeleteOnClose)
	w2.closeFile(doomed)
	if err := w1.c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	mid := w1.send(smb2.ChangeNotify, notifyBody(d, notifyChangeFileName))
	if h, _ := w1.recvFinal(mid); smb2.Status(h.Status) != smb2.StatusDeletePending {
		t.Fatalf("CHANGE_NOTIFY on a delete-pending directory: %v, want STATUS_DELETE_PENDING", smb2.Status(h.Status))
	}
}

// A new named stream is FILE_ACTION_ADDED_STREAM (6) on "file:stream" for
// watchers of stream names.
func TestChangeNotifyStreamAdded(t *testing.T) {
	w1, w2 := notifyPair(t, vfs.NewMem())
	d := w1.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	w2.open(`dir\f.txt`, smb2.GenericAll, 0)
	got := awaitNotify(t, w1, d, notifyChangeStreamName, func() { w2.open(`dir\f.txt:s1`, smb2.GenericAll, 0) })
	if strings.Join(got, ",") != "6:f.txt:s1" {
		t.Fatalf("after a stream create: %q, want [6:f.txt:s1]", got)
	}
}

// Overwriting an existing file at CREATE is FILE_ACTION_MODIFIED.
func TestChangeNotifyOverwrite(t *testing.T) {
	w1, w2 := notifyPair(t, vfs.NewMem())
	d := w1.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	w2.open(`dir\f.txt`, smb2.GenericAll, 0)
	got := awaitNotify(t, w1, d, notifyChangeSize, func() {
		b := createBody(`dir\f.txt`)
		le32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
		le32(b[36:], smb2.FileOverwriteIf)
		if h, _ := w2.roundTrip(smb2.Create, b, true, false); h.Status != 0 {
			t.Fatalf("overwrite: %v", smb2.Status(h.Status))
		}
	})
	if strings.Join(got, ",") != "3:f.txt" {
		t.Fatalf("after an overwrite: %q, want [3:f.txt]", got)
	}
}

// watchingDir is a Dir backend on a temporary directory, whose path it
// returns too; the test is skipped where the backend does not watch for
// changes made outside cifsd.
func watchingDir(t *testing.T) (string, *vfs.DirFS) {
	t.Helper()
	root := t.TempDir()
	d, err := vfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, ok := vfs.FS(d).(vfs.Watcher); !ok || runtime.GOOS != "linux" {
		t.Skip("no backend watch on this system")
	}
	return root, d
}
