package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/smb2"
)

// request sends one request with the given header flags and
// ChannelSequence and returns the status and the response.
func (w *wireClient) request(cmd smb2.Command, body []byte, flags uint32, csn uint16) (smb2.Status, []byte) {
	w.t.Helper()
	msg := make([]byte, smb2.HeaderSize+len(body))
	h := smb2.Header{Command: cmd, Credits: 10, CreditCharge: 1, MessageID: w.mid,
		SessionID: w.sid, TreeID: w.tid, Flags: flags, Status: uint32(csn)}
	w.mid++
	h.Encode(msg)
	copy(msg[smb2.HeaderSize:], body)
	if _, err := w.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)); err != nil {
		w.t.Fatal(err)
	}
	rh, resp := w.recv()
	return smb2.Status(rh.Status), resp
}

func createdID(resp []byte) (smb2.FileID, uint32) {
	b := resp[smb2.HeaderSize:]
	return smb2.FileID{Persistent: binary.LittleEndian.Uint64(b[64:]), Volatile: binary.LittleEndian.Uint64(b[72:])},
		binary.LittleEndian.Uint32(b[4:])
}

// A replayed durable v2 CREATE is answered as the CREATE was (the same
// open, "created"), until the client has used the open; the same
// CreateGuid without the replay flag names an open that exists already.
func TestReplayedCreate(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	q := smb2.DurableRequestV2{CreateGuid: [16]byte{0x7E, 2}}.Context()
	body := durableCreateBody("replayed.txt", smb2.OplockLevelNone, 0, q)
	binary.LittleEndian.PutUint32(body[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	first := a.durableCreate(body)
	if first.status != smb2.StatusSuccess || first.action != fileCreated {
		t.Fatalf("create: %v action %d", first.status, first.action)
	}
	st, resp := a.request(smb2.Create, body, smb2.FlagsReplayOperation, 0)
	if st != smb2.StatusSuccess {
		t.Fatalf("replay: %v", st)
	}
	if id, action := createdID(resp); id != first.id || action != fileCreated {
		t.Fatalf("replay answered %v action %d, want the open %v, created", id, action, first.id)
	}
	if st, _ := a.request(smb2.Create, body, 0, 0); st != smb2.StatusDuplicateObjectID {
		t.Fatalf("the same CreateGuid again without replay: %v, want DUPLICATE_OBJECTID", st)
	}
	if st, _ := a.request(smb2.Write, writeBody(first.id, []byte("x")), 0, 0); st != smb2.StatusSuccess {
		t.Fatalf("write: %v", st)
	}
	st, resp = a.request(smb2.Create, body, smb2.FlagsReplayOperation, 0)
	if st != smb2.StatusSuccess {
		t.Fatalf("replay after use: %v", st)
	}
	if id, _ := createdID(resp); id == first.id {
		t.Fatalf("a replay after the open was used returned that open")
	}
}

// A WRITE with a ChannelSequence older than the open's last one is refused
// (a newer channel may have written since); a READ is not.
func TestStaleChannelSequence(t *testing.T) {
	srv, _ := newDurableServer(t)
	a := durableLogin(t, srv, "alice")
	r := a.durableCreate(durableCreateBody("csn.txt", smb2.OplockLevelNone, 0))
	if r.status != smb2.StatusSuccess {
		t.Fatal(r.status)
	}
	if st, _ := a.request(smb2.Write, writeBody(r.id, []byte("one")), 0, 1); st != smb2.StatusSuccess {
		t.Fatalf("write with a newer sequence: %v", st)
	}
	if st, _ := a.request(smb2.Write, writeBody(r.id, []byte("two")), 0, 0); st != smb2.StatusFileNotAvailable {
		t.Fatalf("write with a stale sequence: %v, want FILE_NOT_AVAILABLE", st)
	}
	read := make([]byte, 49)
	binary.LittleEndian.PutUint16(read, 49)
	binary.LittleEndian.PutUint32(read[4:], 3)
	binary.LittleEndian.PutUint64(read[16:], r.id.Persistent)
	binary.LittleEndian.PutUint64(read[24:], r.id.Volatile)
	st, resp := a.request(smb2.Read, read, 0, 0)
	if st != smb2.StatusSuccess || string(resp[smb2.HeaderSize+16:smb2.HeaderSize+19]) != "one" {
		t.Fatalf("read with a stale sequence: %v", st)
	}
}
