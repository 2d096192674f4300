package smb

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Server-side copy and sparse FSCTLs, through the wire (wireClient from
// session_encrypt_test.go; every request signed).

var le16, le32, le64 = binary.LittleEndian.PutUint16, binary.LittleEndian.PutUint32, binary.LittleEndian.PutUint64

// fsctlServer serves one in-memory share "s" and returns a logged-in
// client connected to it, and a function that connects another.
func fsctlServer(t *testing.T) (*wireClient, func() *wireClient) {
	t.Helper()
	srv := &Server{
		Shares: []Share{{Name: "s", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	connect := func() *wireClient { return connectNTLM(t, srv, "s") }
	return connect(), connect
}

// open opens or creates name with access, sharing everything.
func (w *wireClient) open(name string, access, options uint32) smb2.FileID {
	w.t.Helper()
	b := createBody(name)
	le32(b[24:], access)
	le32(b[32:], smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete)
	le32(b[36:], smb2.FileOpenIf)
	le32(b[40:], options)
	h, resp := w.roundTrip(smb2.Create, b, true, false)
	if h.Status != 0 {
		w.t.Fatalf("create %s: %v", name, smb2.Status(h.Status))
	}
	body := resp[smb2.HeaderSize:]
	return smb2.FileID{Persistent: binary.LittleEndian.Uint64(body[64:]), Volatile: binary.LittleEndian.Uint64(body[72:])}
}

func putFID(b []byte, f smb2.FileID) {
	le64(b, f.Persistent)
	le64(b[8:], f.Volatile)
}

func (w *wireClient) write(f smb2.FileID, off uint64, data []byte) {
	w.t.Helper()
	if st := w.rawWrite(f, off, data); st != 0 {
		w.t.Fatalf("write: %v", st)
	}
}

func (w *wireClient) read(f smb2.FileID, off uint64, n uint32) []byte {
	w.t.Helper()
	b := make([]byte, 49)
	le16(b, 49)
	le32(b[4:], n)
	le64(b[8:], off)
	putFID(b[16:], f)
	h, resp := w.roundTrip(smb2.Read, b, true, false)
	if h.Status != 0 {
		w.t.Fatalf("read: %v", smb2.Status(h.Status))
	}
	body := resp[smb2.HeaderSize:]
	doff, dn := int(body[2]), binary.LittleEndian.Uint32(body[4:])
	return resp[doff : doff+int(dn)]
}

// lockRange takes (or with unlock releases) an exclusive lock.
func (w *wireClient) lockRange(f smb2.FileID, off, n uint64, unlock bool) {
	w.t.Helper()
	b := make([]byte, 48)
	le16(b, 48)
	le16(b[2:], 1)
	putFID(b[8:], f)
	le64(b[24:], off)
	le64(b[32:], n)
	flags := smb2.LockFlagExclusive | smb2.LockFlagFailImmediately
	if unlock {
		flags = smb2.LockFlagUnlock
	}
	le32(b[40:], flags)
	if h, _ := w.roundTrip(smb2.Lock, b, true, false); h.Status != 0 {
		w.t.Fatalf("lock: %v", smb2.Status(h.Status))
	}
}

// ioctl sends an FSCTL and returns the status and the output buffer (nil
// with an error body).
func (w *wireClient) ioctl(code uint32, f smb2.FileID, in []byte, maxOut uint32) (smb2.Status, []byte) {
	w.t.Helper()
	b := make([]byte, 56+len(in))
	le16(b, 57)
	le32(b[4:], code)
	putFID(b[8:], f)
	le32(b[24:], smb2.HeaderSize+56)
	le32(b[28:], uint32(len(in)))
	le32(b[44:], maxOut)
	le32(b[48:], smb2.IoctlIsFsctl)
	copy(b[56:], in)
	h, resp := w.roundTrip(smb2.Ioctl, b, true, false)
	body := resp[smb2.HeaderSize:]
	if binary.LittleEndian.Uint16(body) != 49 {
		return smb2.Status(h.Status), nil
	}
	off, n := binary.LittleEndian.Uint32(body[32:]), binary.LittleEndian.Uint32(body[36:])
	return smb2.Status(h.Status), resp[off : off+n]
}

func (w *wireClient) attributes(f smb2.FileID) uint32 {
	w.t.Helper()
	b := make([]byte, 41)
	le16(b, 41)
	b[2], b[3] = smb2.InfoFile, fscc.FileBasicInformation
	le32(b[4:], 40)
	putFID(b[24:], f)
	h, resp := w.roundTrip(smb2.QueryInfo, b, true, false)
	if h.Status != 0 {
		w.t.Fatalf("query info: %v", smb2.Status(h.Status))
	}
	off := binary.LittleEndian.Uint16(resp[smb2.HeaderSize+2:])
	return binary.LittleEndian.Uint32(resp[int(off)+32:])
}

func (w *wireClient) resumeKey(f smb2.FileID) [24]byte {
	w.t.Helper()
	st, out := w.ioctl(smb2.FsctlSrvRequestResumeKey, f, nil, 32)
	var k smb2.ResumeKeyResponse
	if st != 0 || len(out) != 32 || k.Decode(out) != nil {
		w.t.Fatalf("resume key: %v %x", st, out)
	}
	return k.ResumeKey
}

func (w *wireClient) copychunk(code uint32, dst smb2.FileID, key [24]byte, chunks ...smb2.SrvCopychunk) (smb2.Status, *smb2.SrvCopychunkResponse) {
	w.t.Helper()
	cc := smb2.SrvCopychunkCopy{SourceKey: key, Chunks: chunks}
	in := make([]byte, cc.Size())
	cc.Encode(in)
	st, out := w.ioctl(code, dst, in, smb2.SrvCopychunkResponseSize)
	if out == nil {
		return st, nil
	}
	var r smb2.SrvCopychunkResponse
	if err := r.Decode(out); err != nil {
		w.t.Fatalf("copychunk response %x: %v", out, err)
	}
	return st, &r
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i/7) + seed
	}
	return b
}

func TestCopychunk(t *testing.T) {
	w, connect := fsctlServer(t)
	all := smb2.GenericAll
	src := w.open("src", all, 0)
	dst := w.open("dst", all, 0)
	data := pattern(8192, 1)
	w.write(src, 0, data[:4096])
	w.write(src, 4096, data[4096:])
	key := w.resumeKey(src)
	if key2 := w.resumeKey(src); key2 != key {
		t.Fatal("second resume key differs")
	}

	st, r := w.copychunk(smb2.FsctlSrvCopychunk, dst, key, chunk(0, 4096, 4096), chunk(4096, 0, 4096))
	if st != 0 || *r != (ccResp(2, 0, 8192)) {
		t.Fatalf("copy: %v %+v", st, r)
	}
	if got := w.read(dst, 0, 8192); !bytes.Equal(got[:4096], data[4096:]) || !bytes.Equal(got[4096:], data[:4096]) {
		t.Fatal("copied data differs")
	}

	// Within one file, overlapping: the chunk is read whole before it is
	// written.
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, src, key, chunk(0, 100, 1000)); st != 0 {
		t.Fatalf("overlapping copy: %v", st)
	}
	if got := w.read(src, 100, 1000); !bytes.Equal(got, data[:1000]) {
		t.Fatal("overlapping copy differs")
	}

	// A key is valid from another session; a forged one is not.
	w2 := connect()
	dst2 := w2.open("dst2", all, 0)
	if st, r := w2.copychunk(smb2.FsctlSrvCopychunkWrite, dst2, key, chunk(0, 0, 10)); st != 0 || r.TotalBytesWritten != 10 {
		t.Fatalf("copy from another session: %v %+v", st, r)
	}
	bad := key
	bad[20] ^= 1
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, dst, bad, chunk(0, 0, 10)); st != smb2.StatusObjectNameNotFound {
		t.Fatalf("forged key: %v", st)
	}

	// Past the source's end: INVALID_VIEW_SIZE, with what was copied.
	st, r = w.copychunk(smb2.FsctlSrvCopychunk, dst, key, chunk(0, 0, 100), chunk(8000, 0, 1000))
	if st != smb2.StatusInvalidViewSize || r == nil || *r != (ccResp(1, 0, 100)) {
		t.Fatalf("past EOF: %v %+v", st, r)
	}
}

func TestCopychunkLimits(t *testing.T) {
	w, _ := fsctlServer(t)
	src := w.open("src", smb2.GenericAll, 0)
	dst := w.open("dst", smb2.GenericAll, 0)
	w.write(src, 0, pattern(100, 0))
	key := w.resumeKey(src)
	limits := ccResp(256, 1<<20, 16<<20)
	many := make([]smb2.SrvCopychunk, 257)
	for i := range many {
		many[i] = chunk(0, 0, 1)
	}
	total := make([]smb2.SrvCopychunk, 17)
	for i := range total {
		total[i] = chunk(0, 0, 1<<20)
	}
	for name, chunks := range map[string][]smb2.SrvCopychunk{
		"zero length": {chunk(0, 0, 0)},
		"chunk size":  {chunk(0, 0, 1<<20+1)},
		"count":       many,
		"total":       total,
	} {
		if len(chunks)*24+32 > 64<<10 {
			continue // beyond one credit
		}
		st, r := w.copychunk(smb2.FsctlSrvCopychunk, dst, key, chunks...)
		if st != smb2.StatusInvalidParameter || r == nil || *r != limits {
			t.Errorf("%s: %v %+v", name, st, r)
		}
	}
	// A response that cannot fit: INVALID_PARAMETER, no limits.
	cc := smb2.SrvCopychunkCopy{SourceKey: key, Chunks: []smb2.SrvCopychunk{chunk(0, 0, 10)}}
	in := make([]byte, cc.Size())
	cc.Encode(in)
	if st, out := w.ioctl(smb2.FsctlSrvCopychunk, dst, in, 11); st != smb2.StatusInvalidParameter || out != nil {
		t.Fatalf("small output: %v %x", st, out)
	}
	// A truncated chunk array: the limits.
	if st, out := w.ioctl(smb2.FsctlSrvCopychunk, dst, in[:40], 12); st != smb2.StatusInvalidParameter || len(out) != 12 {
		t.Fatalf("truncated: %v %x", st, out)
	}
}

func TestCopychunkAccessAndLocks(t *testing.T) {
	w, _ := fsctlServer(t)
	all := smb2.GenericAll
	src := w.open("src", all, 0)
	w.write(src, 0, pattern(4096, 3))
	key := w.resumeKey(src)
	one := chunk(0, 0, 4096)

	// Target without read: COPYCHUNK refused, COPYCHUNK_WRITE served.
	wo := w.open("dst", smb2.FileWriteData|smb2.FileReadAttributes, 0)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, wo, key, one); st != smb2.StatusAccessDenied {
		t.Fatalf("COPYCHUNK to write-only: %v", st)
	}
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunkWrite, wo, key, one); st != 0 {
		t.Fatalf("COPYCHUNK_WRITE to write-only: %v", st)
	}
	// Target without write, source without read.
	ro := w.open("dst", smb2.FileReadData, 0)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, ro, key, one); st != smb2.StatusAccessDenied {
		t.Fatalf("to read-only: %v", st)
	}
	srcWO := w.open("src", smb2.FileWriteData, 0)
	dst := w.open("dst", all, 0)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, dst, w.resumeKey(srcWO), one); st != smb2.StatusAccessDenied {
		t.Fatalf("from write-only: %v", st)
	}

	// A lock held through another open of the source or target conflicts.
	other := w.open("src", all, 0)
	w.lockRange(other, 0, 4096, false)
	st, r := w.copychunk(smb2.FsctlSrvCopychunk, dst, key, one)
	if st != smb2.StatusFileLockConflict || r == nil || *r != (smb2.SrvCopychunkResponse{}) {
		t.Fatalf("source locked: %v %+v", st, r)
	}
	w.lockRange(other, 0, 4096, true)
	otherDst := w.open("dst", all, 0)
	w.lockRange(otherDst, 100, 1, false)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, dst, key, one); st != smb2.StatusFileLockConflict {
		t.Fatalf("target locked: %v", st)
	}
	w.lockRange(otherDst, 100, 1, true)
	if st, _ := w.copychunk(smb2.FsctlSrvCopychunk, dst, key, one); st != 0 {
		t.Fatalf("unlocked: %v", st)
	}
}

func zeroData(off, beyond int64) []byte {
	z := smb2.FileZeroDataInformation{FileOffset: off, BeyondFinalZero: beyond}
	b := make([]byte, z.Size())
	z.Encode(b)
	return b
}

func rangeQuery(off, n int64) []byte {
	q := smb2.FileAllocatedRangeBuffer{FileOffset: off, Length: n}
	b := make([]byte, q.Size())
	q.Encode(b)
	return b
}

func TestSparseFsctls(t *testing.T) {
	w, _ := fsctlServer(t)
	f := w.open("sparse", smb2.GenericAll, 0)
	const page = 64 << 10 // the mem backend's allocation unit
	w.write(f, 0, pattern(page, 5))
	w.write(f, page, pattern(page, 6))
	if w.attributes(f)&fscc.FileAttributeSparseFile != 0 {
		t.Fatal("sparse before SET_SPARSE")
	}
	// Not sparse: zeroing writes zeros and the file stays allocated.
	if st, _ := w.ioctl(smb2.FsctlSetZeroData, f, zeroData(0, 10), 0); st != 0 {
		t.Fatalf("zero data: %v", st)
	}
	if st, out := w.ioctl(smb2.FsctlQueryAllocatedRanges, f, rangeQuery(0, 1<<40), 1024); st != 0 ||
		!equalRanges(out, smb2.AllocatedRanges{rng(0, 2*page)}) {
		t.Fatalf("non-sparse ranges: %v %v", st, smb2.DecodeAllocatedRanges(out))
	}

	// No buffer means SetSparse TRUE (MS-FSCC 2.3.64).
	if st, _ := w.ioctl(smb2.FsctlSetSparse, f, nil, 0); st != 0 {
		t.Fatalf("set sparse: %v", st)
	}
	if w.attributes(f)&fscc.FileAttributeSparseFile == 0 {
		t.Fatal("not sparse after SET_SPARSE")
	}
	if st, _ := w.ioctl(smb2.FsctlSetZeroData, f, zeroData(0, page), 0); st != 0 {
		t.Fatalf("punch: %v", st)
	}
	if got := w.read(f, 0, 100); !bytes.Equal(got, make([]byte, 100)) {
		t.Fatal("punched range not zero")
	}
	if st, out := w.ioctl(smb2.FsctlQueryAllocatedRanges, f, rangeQuery(1, 2*page), 1024); st != 0 ||
		!equalRanges(out, smb2.AllocatedRanges{rng(page, page)}) {
		t.Fatalf("sparse ranges: %v %v", st, smb2.DecodeAllocatedRanges(out))
	}
	// Zeroing past the end changes nothing; a reversed range is invalid.
	if st, _ := w.ioctl(smb2.FsctlSetZeroData, f, zeroData(3*page, 4*page), 0); st != 0 {
		t.Fatalf("zero past EOF: %v", st)
	}
	if st, _ := w.ioctl(smb2.FsctlSetZeroData, f, zeroData(10, 9), 0); st != smb2.StatusInvalidParameter {
		t.Fatalf("reversed zero range: %v", st)
	}
	// Output too small for any range, and for all of them.
	if st, _ := w.ioctl(smb2.FsctlQueryAllocatedRanges, f, rangeQuery(0, 2*page), 0); st != smb2.StatusBufferTooSmall {
		t.Fatalf("no room: %v", st)
	}
	w.write(f, 3*page, []byte{1}) // pages 0 and 2 stay holes
	if st, out := w.ioctl(smb2.FsctlQueryAllocatedRanges, f, rangeQuery(0, 4*page), 16); st != smb2.StatusBufferOverflow ||
		!equalRanges(out, smb2.AllocatedRanges{rng(page, page)}) {
		t.Fatalf("overflow: %v %v", st, smb2.DecodeAllocatedRanges(out))
	}
	// Malformed queries.
	if st, _ := w.ioctl(smb2.FsctlQueryAllocatedRanges, f, rangeQuery(512, -1), 1024); st != smb2.StatusInvalidParameter {
		t.Fatalf("wrapping query: %v", st)
	}
	if st, _ := w.ioctl(smb2.FsctlQueryAllocatedRanges, f, nil, 1024); st != smb2.StatusInvalidParameter {
		t.Fatalf("empty query: %v", st)
	}

	// Clearing the mark: the whole file is allocated again.
	if st, _ := w.ioctl(smb2.FsctlSetSparse, f, []byte{0}, 0); st != 0 {
		t.Fatalf("clear sparse: %v", st)
	}
	if w.attributes(f)&fscc.FileAttributeSparseFile != 0 {
		t.Fatal("sparse after clearing")
	}
	if st, out := w.ioctl(smb2.FsctlQueryAllocatedRanges, f, rangeQuery(0, 1<<40), 1024); st != 0 ||
		!equalRanges(out, smb2.AllocatedRanges{rng(0, 3*page+1)}) {
		t.Fatalf("unsparse ranges: %v %v", st, smb2.DecodeAllocatedRanges(out))
	}

	// Access: SET_SPARSE needs a write right, ZERO_DATA write data,
	// QUERY_ALLOCATED_RANGES read data; a directory cannot be sparse.
	ea := w.open("sparse", smb2.FileWriteEA, 0)
	if st, _ := w.ioctl(smb2.FsctlSetSparse, ea, nil, 0); st != smb2.StatusAccessDenied {
		t.Fatalf("set sparse with WRITE_EA: %v", st)
	}
	wa := w.open("sparse", smb2.FileWriteAttributes, 0)
	if st, _ := w.ioctl(smb2.FsctlSetSparse, wa, nil, 0); st != 0 {
		t.Fatalf("set sparse with WRITE_ATTRIBUTES: %v", st)
	}
	if st, _ := w.ioctl(smb2.FsctlSetZeroData, wa, zeroData(0, 1), 0); st != smb2.StatusAccessDenied {
		t.Fatalf("zero data with WRITE_ATTRIBUTES: %v", st)
	}
	if st, _ := w.ioctl(smb2.FsctlQueryAllocatedRanges, wa, rangeQuery(0, 1), 1024); st != smb2.StatusAccessDenied {
		t.Fatalf("query with WRITE_ATTRIBUTES: %v", st)
	}
	// The mark outlives the handles.
	if w.attributes(w.open("sparse", smb2.FileReadAttributes, 0))&fscc.FileAttributeSparseFile == 0 {
		t.Fatal("sparse mark lost")
	}
	d := w.open("dir", smb2.GenericAll, smb2.FileDirectoryFile)
	if st, _ := w.ioctl(smb2.FsctlSetSparse, d, nil, 0); st != smb2.StatusInvalidParameter {
		t.Fatalf("sparse directory: %v", st)
	}
}

func equalRanges(out []byte, want smb2.AllocatedRanges) bool {
	got := smb2.DecodeAllocatedRanges(out)
	if len(got) != len(want) || len(out)%16 != 0 {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func chunk(src, dst uint64, n uint32) smb2.SrvCopychunk {
	return smb2.SrvCopychunk{SourceOffset: src, TargetOffset: dst, Length: n}
}

func ccResp(chunks, chunkBytes, total uint32) smb2.SrvCopychunkResponse {
	return smb2.SrvCopychunkResponse{ChunksWritten: chunks, ChunkBytesWritten: chunkBytes, TotalBytesWritten: total}
}

func rng(off, n int64) smb2.FileAllocatedRangeBuffer {
	return smb2.FileAllocatedRangeBuffer{FileOffset: off, Length: n}
}
