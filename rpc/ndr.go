package rpc

import (
	"errors"

	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/winacl"
)

// errNDR is returned for stub data that does not decode.
var errNDR = errors.New("rpc: malformed NDR")

// maxNDRString bounds a string read from a request, in characters.
const maxNDRString = 4096

// reader reads NDR (transfer syntax NDR 2.0, little-endian) from a stub,
// bounds-checked: after an error every read returns zero, so a decoder
// reads its fields and checks r.err once.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) align(n int) {
	if r.err != nil {
		return
	}
	r.pos = (r.pos + n - 1) &^ (n - 1)
	if r.pos > len(r.b) {
		r.err = errNDR
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil || n < 0 || r.pos+n > len(r.b) {
		r.err = errNDR
		return nil
	}
	s := r.b[r.pos : r.pos+n]
	r.pos += n
	return s
}

func (r *reader) u8() uint8 {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	r.align(2)
	if b := r.take(2); b != nil {
		return le.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	r.align(4)
	if b := r.take(4); b != nil {
		return le.Uint32(b)
	}
	return 0
}

// handle reads a 20-byte context handle (C706 ndr_context_handle).
func (r *reader) handle() [20]byte {
	r.align(4)
	var h [20]byte
	copy(h[:], r.take(20))
	return h
}

// count reads an array's conformance or variance and bounds it.
func (r *reader) count(limit int) int {
	n := r.u32()
	if r.err == nil && n > uint32(limit) {
		r.err = errNDR
	}
	if r.err != nil {
		return 0
	}
	return int(n)
}

// stringBody reads a conformant varying string (max, offset, actual,
// chars) and drops its terminating NULs.
func (r *reader) stringBody() string {
	maxCount := r.u32()
	off := r.u32()
	actual := r.u32()
	if r.err != nil {
		return ""
	}
	if off != 0 || actual > maxCount || actual > maxNDRString {
		r.err = errNDR
		return ""
	}
	str := utf16le.Decode(r.take(2 * int(actual)))
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

// uniqueWchar reads a [unique] wchar_t* that points at one character (the
// server name of LsarOpenPolicy, SamrConnect and the winreg OpenXxx
// calls).
func (r *reader) uniqueWchar() {
	if r.u32() != 0 {
		r.u16()
	}
}

// ustr is an RPC_UNICODE_STRING (MS-DTYP 2.3.10) whose buffer comes later
// (deferred); ustrBody reads that buffer.
type ustr struct {
	length, maxLength uint16
	present           bool
}

func (r *reader) ustrHead() ustr {
	var u ustr
	r.align(4) // the structure aligns as its pointer does
	u.length = r.u16()
	u.maxLength = r.u16()
	u.present = r.u32() != 0
	return u
}

func (r *reader) ustrBody(u ustr) string {
	if !u.present || r.err != nil {
		return ""
	}
	maxCount := r.u32()
	off := r.u32()
	actual := r.u32()
	if r.err != nil {
		return ""
	}
	if off != 0 || actual > maxCount || actual > maxNDRString {
		r.err = errNDR
		return ""
	}
	return utf16le.Decode(r.take(2 * int(actual)))
}

// ustring reads an RPC_UNICODE_STRING passed by itself (its buffer right
// after it).
func (r *reader) ustring() string {
	return r.ustrBody(r.ustrHead())
}

// sid reads an RPC_SID (MS-DTYP 2.4.2.3): its conformance, then the
// structure.
func (r *reader) sid() winacl.SID {
	n := r.count(15)
	rev := r.u8()
	cnt := r.u8()
	auth := r.take(6)
	if r.err != nil {
		return winacl.SID{}
	}
	if rev != 1 || int(cnt) != n {
		r.err = errNDR
		return winacl.SID{}
	}
	var s winacl.SID
	for _, c := range auth {
		s.Authority = s.Authority<<8 | uint64(c)
	}
	s.Sub = make([]uint32, n)
	for i := range s.Sub {
		s.Sub[i] = r.u32()
	}
	return s
}

// writer builds NDR. Deferred pointees are written by the caller after the
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

func (w *writer) u8(v uint8) { w.b = append(w.b, v) }

func (w *writer) u16(v uint16) {
	w.align(2)
	w.b = le.AppendUint16(w.b, v)
}

func (w *writer) u32(v uint32) {
	w.align(4)
	w.b = le.AppendUint32(w.b, v)
}

// u64 writes a hyper as two 4-aligned halves, as MS-DTYP's
// OLD_LARGE_INTEGER and FILETIME are.
func (w *writer) u64(v uint64) {
	w.u32(uint32(v))
	w.u32(uint32(v >> 32))
}

func (w *writer) handle(h [20]byte) {
	w.align(4)
	w.b = append(w.b, h[:]...)
}

// ref writes a non-null referent id.
func (w *writer) ref() {
	w.nextRef += 4
	w.u32(0x00020000 + w.nextRef)
}

// ptr writes a referent id for a present value, null otherwise, and
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
}

// ustrHead writes an RPC_UNICODE_STRING's fixed part (no terminating NUL
// counted, MS-DTYP 2.3.10); ustrBody writes its deferred buffer.
func (w *writer) ustrHead(s string) {
	w.align(4) // the structure aligns as its pointer does
	n := uint16(utf16le.EncodedLen(s))
	w.u16(n)
	w.u16(n)
	w.ptr(true)
}

func (w *writer) ustrBody(s string) {
	u := utf16le.Encode(s)
	n := uint32(len(u) / 2)
	w.u32(n)
	w.u32(0)
	w.u32(n)
	w.b = append(w.b, u...)
}

// sid writes an RPC_SID with its conformance.
func (w *writer) sid(s winacl.SID) {
	w.u32(uint32(len(s.Sub)))
	w.b = s.Append(w.b)
}

// status ends a response with an NTSTATUS or WERROR.
func (w *writer) status(v uint32) []byte {
	w.u32(v)
	return w.b
}
