package rpc

import (
	"bytes"
	"testing"

	"github.com/cifsd/cifsd/internal/utf16le"
)

// multipleValuesStub builds the stub of BaseRegQueryMultipleValues(2) for
// names on key h, with a buffer of bufSize bytes (none when bufSize < 0).
func multipleValuesStub(h [20]byte, bufSize int, names ...string) []byte {
	w := &writer{}
	w.handle(h)
	w.u32(uint32(len(names)))
	w.u32(0)
	w.u32(uint32(len(names)))
	for range names {
		w.ref()
		w.u32(0)
		w.u32(0)
		w.u32(0)
	}
	for _, n := range names {
		w.ustrIn(n + "\x00")
	}
	w.u32(uint32(len(names)))
	if w.ptr(bufSize >= 0) {
		w.u32(uint32(bufSize))
		w.u32(0)
		w.u32(uint32(bufSize))
		w.b = append(w.b, make([]byte, bufSize)...)
	}
	w.u32(uint32(max(bufSize, 0)))
	return w.b
}

// rvalent is one RVALENT of an answer.
type rvalent struct {
	name                string
	length, offset, typ uint32
}

// readMultipleValuesOut decodes an answer: val_listOut, the buffer (nil
// when the pointer is null) and the two words that end it.
func readMultipleValuesOut(t *testing.T, out []byte) ([]rvalent, []byte, uint32, uint32) {
	t.Helper()
	r := &reader{b: out}
	r.u32()
	r.u32()
	n := r.count(100)
	vals := make([]rvalent, n)
	named := make([]bool, n)
	for i := range vals {
		named[i] = r.u32() != 0
		vals[i].length, vals[i].offset, vals[i].typ = r.u32(), r.u32(), r.u32()
	}
	for i := range vals {
		if named[i] {
			vals[i].name = r.ustring()
		}
	}
	var buf []byte
	if r.u32() != 0 {
		r.u32()
		r.u32()
		buf = r.take(r.count(1 << 20))
	}
	size, werr := r.u32(), r.u32()
	if r.err != nil || r.pos != len(out) {
		t.Fatalf("answer does not decode: %v, %d of %d bytes read", r.err, r.pos, len(out))
	}
	return vals, buf, size, werr
}

func TestWinregQueryMultipleValues(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "winreg", winregInterface, userCaller)
	hklm := openHKLM(t, p)
	w := &writer{}
	w.handle(hklm)
	w.ustrIn(`SOFTWARE\Microsoft\Windows NT\CurrentVersion` + "\x00")
	w.u32(0)
	w.u32(0x20019) // KEY_READ
	out, _ := invoke(t, p, 15, w.b)
	key := handleAt(t, out, 0)

	product := utf16le.Encode("cifsd\x00")
	major := []byte{10, 0, 0, 0}
	need := uint32(len(product) + len(major))
	for _, op := range []uint16{29, 34} {
		// Without a buffer: the size the data need.
		out, fault := invoke(t, p, op, multipleValuesStub(key, -1, "ProductName", "CurrentMajorVersionNumber"))
		if fault != 0 {
			t.Fatalf("opnum %d: fault %#x", op, fault)
		}
		_, buf, size, werr := readMultipleValuesOut(t, out)
		if werr != errMoreData || size != need || buf != nil {
			t.Fatalf("opnum %d without a buffer: werr %d size %d (want ERROR_MORE_DATA, %d)", op, werr, size, need)
		}
		// With room: each value's data at its offset, with its type.
		out, _ = invoke(t, p, op, multipleValuesStub(key, 0xff, "productname", "CurrentMajorVersionNumber"))
		vals, buf, size, werr := readMultipleValuesOut(t, out)
		if werr != errSuccess || size != need || len(vals) != 2 {
			t.Fatalf("opnum %d: werr %d size %d values %d", op, werr, size, len(vals))
		}
		if vals[0].name != "productname\x00" || vals[0].typ != regSZ || vals[1].typ != regDWORD {
			t.Fatalf("opnum %d: values %+v", op, vals)
		}
		for i, want := range [][]byte{product, major} {
			v := vals[i]
			if int(v.offset+v.length) > len(buf) || !bytes.Equal(buf[v.offset:v.offset+v.length], want) {
				t.Fatalf("opnum %d: value %d at %d+%d of %d bytes, want %x", op, i, v.offset, v.length, len(buf), want)
			}
		}
		// One missing value fails the call, whatever the buffer.
		out, _ = invoke(t, p, op, multipleValuesStub(key, 0xff, "ProductName", "NoSuchValue"))
		if _, _, _, werr := readMultipleValuesOut(t, out); werr != errFileNotFound {
			t.Fatalf("opnum %d with a missing value: werr %d, want ERROR_FILE_NOT_FOUND", op, werr)
		}
		// No values: nothing to do.
		out, _ = invoke(t, p, op, multipleValuesStub(key, 0))
		if _, _, _, werr := readMultipleValuesOut(t, out); werr != errSuccess {
			t.Fatalf("opnum %d with no values: werr %d", op, werr)
		}
	}
}
