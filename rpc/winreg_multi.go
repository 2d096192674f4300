package rpc

import "strings"

// BaseRegQueryMultipleValues (opnum 29, MS-RRP 3.1.5.26) and
// BaseRegQueryMultipleValues2 (opnum 34, 3.1.5.30): the type and data of
// several values of one key in one call. The data of all of them go into
// one buffer the client sizes; each RVALENT answered gives its value's
// type, length and offset in that buffer.

// Limits of one call: the values asked for, and the data answered (the
// 1 MB a call may carry, ERROR_TRANSFER_TOO_LONG beyond it, as
// RegQueryMultipleValues documents).
const (
	maxMultipleValues  = 1024
	maxMultipleData    = 1 << 20
	errTransferTooLong = 222
)

// multipleValuesIn is the [in] part both opnums share.
type multipleValuesIn struct {
	h     [20]byte
	names []string // nil entry: a null ve_valuename
	named []bool
	// hasBuf says the client passed lpvalueBuf; bufSize is *ldwTotsize
	// (opnum 29) or *ldwTotsize as offered (opnum 34).
	hasBuf  bool
	bufSize uint32
}

// readMultipleValuesIn reads hKey, val_listIn, num_vals and lpvalueBuf,
// and leaves r at the size that follows the buffer.
func (r *reader) readMultipleValuesIn() multipleValuesIn {
	var in multipleValuesIn
	in.h = r.handle()
	// val_listIn: [size_is(num_vals), length_is(num_vals)] RVALENT*, a
	// conformant varying array of { [unique] PRRP_UNICODE_STRING
	// ve_valuename; ve_valuelen; ve_valueptr; ve_type } whose names follow
	// the array, each string's buffer right after its structure.
	maxCount := r.count(maxMultipleValues)
	off := r.u32()
	n := r.count(maxMultipleValues)
	if r.err == nil && (off != 0 || n > maxCount) {
		r.err = errNDR
	}
	in.named = make([]bool, n)
	for i := range n {
		in.named[i] = r.u32() != 0
		r.u32() // ve_valuelen
		r.u32() // ve_valueptr
		r.u32() // ve_type
	}
	in.names = make([]string, n)
	for i := range n {
		if in.named[i] {
			in.names[i] = strings.TrimRight(r.ustring(), "\x00")
		}
	}
	if num := r.u32(); r.err == nil && int(num) != n {
		r.err = errNDR // num_vals is the array's size
	}
	// lpvalueBuf: [in, out, unique, size_is(*ldwTotsize),
	// length_is(*ldwTotsize)] char*; what the client sends in it is
	// nothing the server reads.
	if in.hasBuf = r.u32() != 0; in.hasBuf {
		r.count(maxMultipleData) // max count
		r.u32()                  // offset
		r.take(r.count(maxMultipleData))
	}
	in.bufSize = r.u32() // ldwTotsize
	return in
}

// multipleValuesOut is what the server answers for a multipleValuesIn.
type multipleValuesOut struct {
	werr   uint32
	vals   []regValue // found values, in the order asked (on success)
	offs   []uint32   // each value's offset in data
	data   []byte     // every value's data, back to back
	needed uint32     // the buffer size the data need
}

// queryMultipleValues finds the values of in.names in the key of in.h.
func (c *call) queryMultipleValues(in multipleValuesIn) multipleValuesOut {
	k, ok := c.regKeyOf(in.h)
	if !ok {
		return multipleValuesOut{werr: 6} // ERROR_INVALID_HANDLE
	}
	var out multipleValuesOut
	for i, name := range in.names {
		if !in.named[i] {
			return multipleValuesOut{werr: errInvalidParam}
		}
		v := k.value(name)
		if v == nil {
			// Every value must exist, or the call fails (the API's
			// documentation; smbtorture's winreg tests).
			return multipleValuesOut{werr: errFileNotFound}
		}
		out.vals = append(out.vals, *v)
		out.offs = append(out.offs, uint32(len(out.data)))
		out.data = append(out.data, v.data...)
		if len(out.data) > maxMultipleData {
			return multipleValuesOut{werr: errTransferTooLong}
		}
	}
	out.needed = uint32(len(out.data))
	switch {
	case !in.hasBuf && out.needed > 0, in.bufSize < out.needed:
		out.werr = errMoreData
	default:
		out.werr = errSuccess
	}
	return out
}

// value finds a value of k by name, case-insensitively; the default
// value's name is "".
func (k *regKey) value(name string) *regValue {
	for i := range k.values {
		if strings.EqualFold(k.values[i].name, name) {
			return &k.values[i]
		}
	}
	return nil
}

// writeValList writes val_listOut: the names asked for, and for each
// value found its length, offset and type (zero when the call failed).
func (w *writer) writeValList(in multipleValuesIn, out multipleValuesOut) {
	n := uint32(len(in.names))
	w.u32(n)
	w.u32(0)
	w.u32(n)
	for i := range in.names {
		w.ptr(in.named[i])
		if out.werr == errSuccess {
			w.u32(uint32(len(out.vals[i].data)))
			w.u32(out.offs[i])
			w.u32(out.vals[i].typ)
		} else {
			w.u32(0)
			w.u32(0)
			w.u32(0)
		}
	}
	for i, name := range in.names {
		if in.named[i] {
			w.ustrHead(name + "\x00")
			w.ustrBody(name + "\x00")
		}
	}
}

// writeValueBuf writes the [out] lpvalueBuf: size bytes with the data at
// their start when the call succeeds and the client passed a buffer; a
// null pointer otherwise, so its size need not match a count the client
// checks it against.
func (w *writer) writeValueBuf(in multipleValuesIn, out multipleValuesOut, size uint32) {
	if !w.ptr(in.hasBuf && out.werr == errSuccess) {
		return
	}
	w.u32(size)
	w.u32(0)
	w.u32(size)
	w.b = append(w.b, out.data...)
	w.b = append(w.b, make([]byte, int(size)-len(out.data))...)
}

// regQueryMultipleValues answers BaseRegQueryMultipleValues: on success
// *ldwTotsize is the bytes of data answered; on ERROR_MORE_DATA it is the
// size the buffer must have.
func (c *call) regQueryMultipleValues() ([]byte, uint32) {
	in := c.r.readMultipleValuesIn()
	if c.r.err != nil {
		return c.bad()
	}
	out := c.queryMultipleValues(in)
	w := &writer{}
	w.writeValList(in, out)
	w.writeValueBuf(in, out, out.needed)
	if out.werr == errSuccess || out.werr == errMoreData {
		w.u32(out.needed)
	} else {
		w.u32(in.bufSize)
	}
	return w.status(out.werr), 0
}

// regQueryMultipleValues2 answers BaseRegQueryMultipleValues2: the buffer
// keeps the size the client offered, and ldwRequiredSize says what the
// data need, on success and on ERROR_MORE_DATA alike.
func (c *call) regQueryMultipleValues2() ([]byte, uint32) {
	in := c.r.readMultipleValuesIn()
	if c.r.err != nil {
		return c.bad()
	}
	out := c.queryMultipleValues(in)
	w := &writer{}
	w.writeValList(in, out)
	w.writeValueBuf(in, out, in.bufSize)
	w.u32(out.needed)
	return w.status(out.werr), 0
}
