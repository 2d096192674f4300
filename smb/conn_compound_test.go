package smb

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/cifsd/cifsd/smb2"
)

// compoundElem is one request of a compound sent by sendCompound.
type compoundElem struct {
	cmd     smb2.Command
	body    []byte
	related bool
	sid     uint64 // 0: the client's session
}

// sendCompound sends the requests chained in one frame (unsigned) and
// returns each response's header and its length in the frame (up to
// NextCommand, padding included).
func (w *wireClient) sendCompound(elems []compoundElem) ([]smb2.Header, []int) {
	w.t.Helper()
	w.writeCompound(elems)
	return w.readCompound()
}

// writeCompound sends the requests chained in one frame (unsigned) and
// returns their MessageIds.
func (w *wireClient) writeCompound(elems []compoundElem) []uint64 {
	w.t.Helper()
	var frame []byte
	var mids []uint64
	for i, e := range elems {
		msg := make([]byte, smb2.HeaderSize+len(e.body))
		h := smb2.Header{Command: e.cmd, Credits: 10, CreditCharge: 1, MessageID: w.mid, SessionID: w.sid, TreeID: w.tid}
		if e.sid != 0 {
			h.SessionID = e.sid
		}
		if e.related {
			h.Flags |= smb2.FlagsRelatedOps
		}
		mids = append(mids, w.mid)
		w.mid++
		if i < len(elems)-1 {
			for len(msg)%8 != 0 {
				msg = append(msg, 0)
			}
			h.NextCommand = uint32(len(msg))
		}
		h.Encode(msg)
		copy(msg[smb2.HeaderSize:], e.body)
		frame = append(frame, msg...)
	}
	if _, err := w.c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(frame))), frame...)); err != nil {
		w.t.Fatal(err)
	}
	return mids
}

// readCompound reads one response frame and returns each response's header
// and its length in the frame (up to NextCommand, padding included).
func (w *wireClient) readCompound() ([]smb2.Header, []int) {
	w.t.Helper()
	if _, err := io.ReadFull(w.c, w.hdrBuf[:]); err != nil {
		w.t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(w.hdrBuf[:]))
	if _, err := io.ReadFull(w.c, resp); err != nil {
		w.t.Fatal(err)
	}
	var hs []smb2.Header
	var sizes []int
	for len(resp) > 0 {
		var h smb2.Header
		if err := h.Decode(resp); err != nil {
			w.t.Fatal(err)
		}
		n := len(resp)
		if h.NextCommand != 0 {
			n = int(h.NextCommand)
		}
		hs = append(hs, h)
		sizes = append(sizes, n)
		resp = resp[n:]
	}
	return hs, sizes
}

func relatedCloseBody() []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint16(b, 24)
	for i := 8; i < 24; i++ {
		b[i] = 0xff // the FileId of the previous request in the chain
	}
	return b
}

func openBody(name string) []byte {
	b := createBody(name)
	binary.LittleEndian.PutUint32(b[36:], smb2.FileOpen)
	return b
}

// A related chain whose CREATE fails answers every later request of the
// chain with the CREATE's error; an unrelated request starts afresh; every
// response of a compound, the last one too, is padded to 8 bytes
// (MS-SMB2 3.3.5.2.7.2, 3.3.4.1.3).
func TestCompoundChainErrorsAndPadding(t *testing.T) {
	w := dial(t, newTokenServer(t))
	w.mustSetup("alice", 0)
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	hs, sizes := w.sendCompound([]compoundElem{
		{cmd: smb2.Create, body: openBody("missing.txt")},
		{cmd: smb2.Close, body: relatedCloseBody(), related: true},
		{cmd: smb2.Close, body: relatedCloseBody()},
	})
	want := []smb2.Status{smb2.StatusObjectNameNotFound, smb2.StatusObjectNameNotFound, smb2.StatusFileClosed}
	for i, h := range hs {
		if smb2.Status(h.Status) != want[i] {
			t.Errorf("response %d: %v, want %v", i, smb2.Status(h.Status), want[i])
		}
		if sizes[i]%8 != 0 {
			t.Errorf("response %d is %d bytes, not padded to 8", i, sizes[i])
		}
	}

	// The first request of a compound cannot be related.
	hs, _ = w.sendCompound([]compoundElem{
		{cmd: smb2.Create, body: createBody("f.txt"), related: true},
		{cmd: smb2.Close, body: relatedCloseBody(), related: true},
	})
	for i, h := range hs {
		if smb2.Status(h.Status) != smb2.StatusInvalidParameter {
			t.Errorf("chain starting related, response %d: %v, want INVALID_PARAMETER", i, smb2.Status(h.Status))
		}
	}

	// CREATE + related CLOSE works, and a lone response is not padded.
	hs, _ = w.sendCompound([]compoundElem{
		{cmd: smb2.Create, body: createBody("g.txt")},
		{cmd: smb2.Close, body: relatedCloseBody(), related: true},
	})
	if hs[0].Status != 0 || hs[1].Status != 0 {
		t.Fatalf("create+close: %v, %v", smb2.Status(hs[0].Status), smb2.Status(hs[1].Status))
	}
	_, sizes = w.sendCompound([]compoundElem{{cmd: smb2.Echo, body: echoBody}})
	if sizes[0] != smb2.HeaderSize+4 {
		t.Fatalf("lone ECHO response is %d bytes, want %d", sizes[0], smb2.HeaderSize+4)
	}
}
