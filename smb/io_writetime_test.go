package smb

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// closeWriteTime closes f asking for its attributes and returns the
// last-write time the response reports.
func (w *wireClient) closeWriteTime(f smb2.FileID) uint64 {
	w.t.Helper()
	b := make([]byte, 24)
	le16(b, 24)
	le16(b[2:], smb2.CloseFlagPostQueryAttrib)
	putFID(b[8:], f)
	h, resp := w.roundTrip(smb2.Close, b, true, false)
	if h.Status != 0 {
		w.t.Fatalf("close: %v", smb2.Status(h.Status))
	}
	return binary.LittleEndian.Uint64(resp[smb2.HeaderSize+24:])
}

func (w *wireClient) flushFile(f smb2.FileID) {
	w.t.Helper()
	b := make([]byte, 24)
	le16(b, 24)
	putFID(b[8:], f)
	if h, _ := w.roundTrip(smb2.Flush, b, true, false); h.Status != 0 {
		w.t.Fatalf("flush: %v", smb2.Status(h.Status))
	}
}

// The last-write time moves as Windows moves it: the first write of a
// handle updates it a moment later, later writes wait for the close; a
// FLUSH carries out a pending update.
func TestDelayedWriteTime(t *testing.T) {
	old := writeTimeDelay
	writeTimeDelay = 200 * time.Millisecond
	t.Cleanup(func() { writeTimeDelay = old })
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			f := w.open("f", smb2.GenericAll, 0)
			t0 := w.basic(f).write
			time.Sleep(20 * time.Millisecond)
			w.write(f, 0, []byte("a"))
			if got := w.basic(f).write; got != t0 {
				t.Fatalf("write time moved at the first write: %d, was %d", got, t0)
			}
			time.Sleep(2 * writeTimeDelay)
			t1 := w.basic(f).write
			if t1 <= t0 {
				t.Fatalf("write time not updated after the delay: %d, was %d", t1, t0)
			}
			w.write(f, 0, []byte("b"))
			time.Sleep(2 * writeTimeDelay)
			if got := w.basic(f).write; got != t1 {
				t.Errorf("a second write moved the write time: %d, was %d", got, t1)
			}
			if got := w.closeWriteTime(f); got <= t1 {
				t.Errorf("close after a write kept the write time %d", got)
			}

			g := w.open("f", smb2.GenericAll, 0)
			t2 := w.basic(g).write
			time.Sleep(20 * time.Millisecond)
			w.write(g, 0, []byte("c"))
			w.flushFile(g)
			t3 := w.basic(g).write
			if t3 <= t2 {
				t.Errorf("flush did not make the pending update: %d, was %d", t3, t2)
			}
			if got := w.closeWriteTime(g); got != t3 {
				t.Errorf("close after the flush moved the write time: %d, was %d", got, t3)
			}
		})
	}
}
