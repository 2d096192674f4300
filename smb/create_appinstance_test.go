package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/smb2"
)

// dialGUID is dial with the ClientGuid given.
func dialGUID(t *testing.T, srv *Server, guid byte) *wireClient {
	t.Helper()
	w, _ := dialWith(t, srv, 0, guid)
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatalf("tree connect: %v", st)
	}
	return w
}

func appInstance(id byte) smb2.CreateContext {
	d := make([]byte, 20)
	binary.LittleEndian.PutUint16(d, 20)
	d[4] = id
	return smb2.CreateContext{Name: smb2.CreateAppInstanceID, Data: d}
}

// A client that opens a file with the AppInstanceId of another client's
// open closes that open instead of meeting its share mode or breaking its
// oplock (MS-SMB2 3.3.5.9.13; smbtorture durable-v2-open.app-instance).
func TestAppInstanceClosesOtherClientsOpen(t *testing.T) {
	srv, _ := newDurableServer(t)
	a, b := dialGUID(t, srv, 1), dialGUID(t, srv, 2)
	ra := a.durableCreate(durableCreateBody("f", smb2.OplockLevelBatch, 0, appInstance(7)))
	if ra.status != smb2.StatusSuccess || ra.oplock != smb2.OplockLevelBatch {
		t.Fatalf("first open: %v, oplock %#x", ra.status, ra.oplock)
	}
	rb := b.durableCreate(durableCreateBody("f", smb2.OplockLevelBatch, 0, appInstance(7)))
	if rb.status != smb2.StatusSuccess || rb.oplock != smb2.OplockLevelBatch {
		t.Fatalf("same app instance: %v, oplock %#x", rb.status, rb.oplock)
	}
	if h, _ := a.roundTrip(smb2.Close, closeBody(ra.id), false, false); smb2.Status(h.Status) != smb2.StatusFileClosed {
		t.Fatalf("close of the replaced open: %v, want FILE_CLOSED", smb2.Status(h.Status))
	}
	// Another instance meets the share mode (none) of the open.
	if got := a.durableCreate(durableCreateBody("g", 0, 0, appInstance(7))); got.status != smb2.StatusSuccess {
		t.Fatalf("open g: %v", got.status)
	}
	if got := b.durableCreate(durableCreateBody("g", 0, 0, appInstance(8))); got.status != smb2.StatusSharingViolation {
		t.Fatalf("other app instance: %v, want SHARING_VIOLATION", got.status)
	}
	// So does the same client under the same id.
	if got := a.durableCreate(durableCreateBody("g", 0, 0, appInstance(7))); got.status != smb2.StatusSharingViolation {
		t.Fatalf("same client, same app instance: %v, want SHARING_VIOLATION", got.status)
	}
}
