package smb

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

func notifyBody(dir smb2.FileID, filter uint32) []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint16(b, 32)
	binary.LittleEndian.PutUint32(b[4:], 4096)
	putFID(b[8:], dir)
	binary.LittleEndian.PutUint32(b[24:], filter)
	return b
}

// notifyNames decodes a CHANGE_NOTIFY response's FILE_NOTIFY_INFORMATION
// entries as "action:name".
func notifyNames(t *testing.T, resp []byte) []string {
	t.Helper()
	body := resp[smb2.HeaderSize:]
	off, n := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:])
	buf := resp[off : uint32(off)+n]
	var out []string
	for len(buf) >= 12 {
		next := binary.LittleEndian.Uint32(buf)
		action := binary.LittleEndian.Uint32(buf[4:])
		ln := binary.LittleEndian.Uint32(buf[8:])
		out = append(out, string(rune('0'+action))+":"+utf16le.Decode(buf[12:12+ln]))
		if next == 0 {
			break
		}
		buf = buf[next:]
	}
	return out
}

// A pending CHANGE_NOTIFY completes with the name of a file created in the
// directory; changes made while no request is pending are kept for the
// next one, which is answered at once.
func TestChangeNotifyReportsChanges(t *testing.T) {
	w := dial(t, newTokenServer(t))
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	d := w.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	notifyMID := w.pendingNotify(d, notifyChangeFileName)
	createMID := w.send(smb2.Create, createBody(`dir\new.txt`))
	var got []string
	for range 2 {
		h, resp := w.recv()
		switch h.MessageID {
		case notifyMID:
			if h.Status != 0 {
				t.Fatalf("notify completed with %v", smb2.Status(h.Status))
			}
			got = notifyNames(t, resp)
		case createMID:
			if h.Status != 0 {
				t.Fatalf("create: %v", smb2.Status(h.Status))
			}
		}
	}
	if strings.Join(got, ",") != "1:new.txt" {
		t.Fatalf("notified %q, want [1:new.txt] (FILE_ACTION_ADDED)", got)
	}

	// No request pending: the next two changes are buffered.
	w.open(`dir\second.txt`, smb2.GenericAll, 0)
	w.open(`dir\third.txt`, smb2.GenericAll, 0)
	h, resp := w.roundTrip(smb2.ChangeNotify, notifyBody(d, notifyChangeFileName), false, false)
	if h.Status != 0 {
		t.Fatalf("notify with buffered changes: %v", smb2.Status(h.Status))
	}
	if got := strings.Join(notifyNames(t, resp), ","); got != "1:second.txt,1:third.txt" {
		t.Fatalf("buffered changes %q", got)
	}
}

// A directory opened as "dir\sub\.." is dir itself (smb2.notify.tree opens
// one so): a change in dir is reported to it. A ".." that climbs above the
// share root is refused.
func TestDotDotOpensParent(t *testing.T) {
	w := dial(t, newTokenServer(t))
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	w.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	w.open(`dir\sub`, smb2.GenericAll, smb2.FileDirectoryFile)
	d := w.open(`dir\sub\..`, smb2.GenericAll, smb2.FileDirectoryFile)
	// Register the watch, then make a change in dir.
	notifyMID := w.pendingNotify(d, notifyChangeFileName)
	createMID := w.send(smb2.Create, createBody(`dir\new.txt`))
	var got []string
	for range 2 {
		h, resp := w.recv()
		if h.Status != 0 {
			t.Fatalf("message %d: %v", h.MessageID, smb2.Status(h.Status))
		}
		if h.MessageID == notifyMID {
			got = notifyNames(t, resp)
		} else if h.MessageID != createMID {
			t.Fatalf("unexpected message %d", h.MessageID)
		}
	}
	if strings.Join(got, ",") != "1:new.txt" {
		t.Fatalf("notified %q, want [1:new.txt]", got)
	}
	for _, name := range []string{`..`, `dir\..\..`, `dir\sub\..\..\..\x`} {
		if st, _ := w.openStatus(name, smb2.GenericRead, smb2.FileOpenIf); st != smb2.StatusObjectPathSyntaxBad {
			t.Errorf("open %s: %v, want OBJECT_PATH_SYNTAX_BAD", name, st)
		}
	}
}

// pendingNotify sends CHANGE_NOTIFY on dir and checks that it goes async
// (STATUS_PENDING); it returns the request's MessageId.
func (w *wireClient) pendingNotify(dir smb2.FileID, filter uint32) uint64 {
	w.t.Helper()
	mid := w.send(smb2.ChangeNotify, notifyBody(dir, filter))
	if h, _ := w.recv(); h.MessageID != mid || smb2.Status(h.Status) != smb2.StatusPending {
		w.t.Fatalf("CHANGE_NOTIFY: %v, want STATUS_PENDING", smb2.Status(h.Status))
	}
	return mid
}

// A change that comes while a CHANGE_NOTIFY is on its way to going async
// (after it found nothing buffered, before it is pending) answers that
// request: it is neither left in the buffer while the request waits for
// the next change, nor lost. Under load this window is where
// smb2.notify.basedir, tcon and dir hung.
func TestChangeNotifyChangeWhileGoingAsync(t *testing.T) {
	w := dial(t, newTokenServer(t))
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	d := w.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	raced := false
	notifyUnlockedHook = func(o *Open) {
		if !raced {
			raced = true
			o.share.notifyChanges(notifyChangeFileName, change{"dir/raced.txt", notifyActionAdded})
		}
	}
	t.Cleanup(func() { notifyUnlockedHook = nil })

	mid := w.send(smb2.ChangeNotify, notifyBody(d, notifyChangeFileName))
	h, resp := w.recv()
	if h.MessageID != mid {
		t.Fatalf("answer to message %d, want %d", h.MessageID, mid)
	}
	if smb2.Status(h.Status) == smb2.StatusPending {
		// The change is stuck in the buffer: only a CANCEL ends the request.
		w.sendCancel(mid)
		h, _ = w.recvFinal(mid)
		t.Fatalf("CHANGE_NOTIFY went async with a change buffered; ended by CANCEL with %v", smb2.Status(h.Status))
	}
	if !raced {
		t.Fatal("the hook did not run")
	}
	if h.Status != 0 {
		t.Fatalf("CHANGE_NOTIFY: %v", smb2.Status(h.Status))
	}
	if got := strings.Join(notifyNames(t, resp), ","); got != "1:raced.txt" {
		t.Fatalf("notified %q, want [1:raced.txt]", got)
	}
}
