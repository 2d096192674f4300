package rpc

import (
	"errors"

	"github.com/cifsd/cifsd/internal/utf16le"
)

// errNDR is returned for stub data that does not decode.
var errNDR = errors.New("rpc: malformed NDR")

// maxNDRString bounds a string read from a request, in characters.
const maxNDRString = 4096

// reader reads NDR (transfer syntax NDR 2.0, little-endian) from a stub,
// bounds-checked: after an error every read returns zero.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) align(n int) {
	if r.err == nil {
		r.pos = (r.pos + n - 1) &^ (n - 1)
	}
}

func (r *reader) u32() uint32 {
	r.align(4)
	if r.err != nil || r.pos+4 > len(r.b) {
		r.err = errNDR
		return 0
	}
	v := le.Uint32(r.b[r.pos:])
	r.pos += 4
	return v
}

// stringBody reads a conformant varying string (max, offset, actual, chars).
func (r *reader) stringBody() string {
	maxCount := r.u32()
	off := r.u32()
	actual := r.u32()
	if r.err != nil {
		return ""
	}
	if off != 0 || actual > maxCount || actual > maxNDRString || r.pos+2*int(actual) > len(r.b) {
		r.err = errNDR
		return ""
	}
	s := r.b[r.pos : r.pos+2*int(actual)]
	r.pos += 2 * int(actual)
	str := utf16le.Decode(s)
	for len(str) > 0 && str[len(str)-1] == 0 {
		str = str[:len(str)-1]
	}
	return str
}

// uniqueString reads a [unique, string] wchar_t* (referent id, then body).
func (r *reader) uniqueString() string {
	if r.u32() == 0 {
		return ""
	}
	return r.stringBody()
}

// writer builds NDR. Deferred pointees are queued and written after the
// structure that points at them, as NDR requires for embedded pointers.
type writer struct {
	b       []byte
	nextRef uint32
}

func (w *writer) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *writer) u32(v uint32) {
	w.align(4)
	w.b = le.AppendUint32(w.b, v)
}

// ref writes a non-null referent id.
func (w *writer) ref() {
	w.nextRef += 4
	w.u32(0x00020000 + w.nextRef)
}

// ptr writes a referent id for a non-empty value, null otherwise, and
// reports which.
func (w *writer) ptr(present bool) bool {
	if !present {
		w.u32(0)
		return false
	}
	w.ref()
	return true
}

// str writes a conformant varying string with its terminating NUL.
func (w *writer) str(s string) {
	u := utf16le.Encode(s + "\x00")
	n := uint32(len(u) / 2)
	w.u32(n)
	w.u32(0)
	w.u32(n)
	w.b = append(w.b, u...)
	w.align(4)
}
