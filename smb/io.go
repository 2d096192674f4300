package smb

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// maxIOSize is the largest READ, WRITE and transact size negotiated with
// LARGE_MTU (SMB 2.1 and later), as Windows and Samba offer.
const maxIOSize = 8 << 20

// smallIOSize is the limit for SMB 2.0.2, which has no multi-credit requests.
const smallIOSize = 64 << 10

// maxFileSize is the largest file NTFS holds (16 TiB less 64 KiB); a write
// ending past it is INVALID_PARAMETER.
const maxFileSize = 0xfffffff0000

// checkVolumeRoom refuses with DISK_FULL a write that would make a file that
// is not sparse larger than its volume: NTFS allocates a file that is not
// sparse up to its end, so a write far past the end fails for want of
// space where a POSIX file system would leave a hole (smbtorture
// rw.invalid). Only writes ending past the smallest volume worth asking
// about pay for the question.
func (o *Open) checkVolumeRoom(ctx context.Context, off, size uint64) smb2.Status {
	end := off + size
	if size == 0 || end <= 1<<32 {
		return smb2.StatusSuccess
	}
	sf, ok := vfs.As[vfs.StatFSer](o.share.cfg.FS)
	if !ok {
		return smb2.StatusSuccess
	}
	st, err := sf.StatFS(ctx)
	if err != nil || end <= st.TotalBytes || o.sparseAttr(ctx) != 0 {
		return smb2.StatusSuccess
	}
	return smb2.StatusDiskFull
}

func putUint64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

// checkCredits enforces MS-SMB2 3.3.5.2.5: a request moving n bytes must
// have been charged ceil(n/64K) credits.
func (req *Request) checkCredits(n uint32) bool {
	if req.conn.dialect() == smb2.Dialect202 {
		return n <= smallIOSize
	}
	need := (uint64(n) + 65535) / 65536
	return uint64(max(req.Header.CreditCharge, 1)) >= need
}

// maxIO is the negotiated READ/WRITE limit of the connection.
func (c *conn) maxIO() uint32 {
	if c.dialect() == smb2.Dialect202 {
		return smallIOSize
	}
	return maxIOSize
}

// closeFile closes an open (MS-SMB2 3.3.5.10).
func (s *Server) closeFile(ctx context.Context, req *Request) *Response {
	var r smb2.CloseRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.openExclusive(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	req.Session.removeOpen(o)
	o.closeWriteTime(ctx) // before the times are reported (io_writetime.go)
	var resp smb2.CloseResponse
	if r.Flags&smb2.CloseFlagPostQueryAttrib != 0 {
		if fi, err := o.stat(ctx); err == nil {
			m := metaOf(fi)
			o.applyAlloc(&m) // info_alloc.go
			resp = smb2.CloseResponse{
				Flags:          smb2.CloseFlagPostQueryAttrib,
				CreationTime:   m.creation,
				LastAccessTime: m.access,
				LastWriteTime:  m.write,
				ChangeTime:     m.change,
				AllocationSize: uint64(m.alloc),
				EndofFile:      uint64(m.size),
				FileAttributes: m.attrs | o.sparseAttr(ctx),
			}
		}
	}
	if err := o.close(); err != nil {
		s.logger().Debug("close", "name", o.name, "err", err)
	}
	return ok(&resp)
}

// writeFlagWriteThrough is SMB2_WRITEFLAG_WRITE_THROUGH (MS-SMB2 2.2.21).
const writeFlagWriteThrough = 0x00000001

// writesThrough reports whether a WRITE must reach stable storage before
// it is answered: the request asks it (SMB 2.1 and later, MS-SMB2
// 3.3.5.13), or the open was created or set FILE_WRITE_THROUGH (MS-FSA
// 2.1.5.3, FileModeInformation).
func (o *Open) writesThrough(req *Request, flags uint32) bool {
	if flags&writeFlagWriteThrough != 0 && req.conn.dialect() != smb2.Dialect202 {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return (o.createOptions|o.mode)&smb2.FileWriteThrough != 0
}

// flush commits a file's data (MS-SMB2 3.3.5.11).
func (s *Server) flush(ctx context.Context, req *Request) *Response {
	var r smb2.FlushRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.openExclusive(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.access&(smb2.FileWriteData|smb2.FileAppendData) == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	f, err := o.dataFile(ctx)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return statusResponse(statusOf(err))
		}
	}
	o.updateWriteTime(ctx, true) // a pending last-write-time update is made
	return ok(smb2.SimpleBody{})
}

// dataFile returns o's backend file, opening it on the first need of a
// stat open; nil for a directory or pipe. The open runs without o.mu.
func (o *Open) dataFile(ctx context.Context) (vfs.File, error) {
	o.mu.Lock()
	f, name, closed := o.file, o.name, o.isClosed
	o.mu.Unlock()
	if f != nil || !o.statOpen {
		return f, nil
	}
	if closed {
		return nil, fs.ErrClosed
	}
	flag := vfs.O_RDWR
	if o.tree.readOnly {
		flag = vfs.O_RDONLY
	}
	f, err := openExisting(ctx, o.share.cfg.FS, name, flag, o.access)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.isClosed:
		f.Close()
		return nil, fs.ErrClosed
	case o.file != nil: // another request opened it meanwhile
		f.Close()
		return o.file, nil
	}
	o.file = f
	return f, nil
}

// read reads from a file or pipe (MS-SMB2 3.3.5.12). The data is read into
// a pooled buffer and written after the response header without a copy.
func (s *Server) read(ctx context.Context, req *Request) *Response {
	var r smb2.ReadRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if r.Length > req.conn.maxIO() || !req.checkCredits(r.Length) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.pipe != nil {
		return s.readPipe(ctx, req, o, r.Length)
	}
	if o.isDir {
		return statusResponse(smb2.StatusInvalidDeviceRequest)
	}
	if o.access&(smb2.FileReadData|smb2.FileExecute) == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	// File offsets are signed 64-bit: a range that would end past the
	// largest one is refused; one merely past the end of file reads
	// END_OF_FILE (smbtorture rw.invalid, as Windows answers).
	if r.Offset > math.MaxInt64 || r.Offset+uint64(r.Length) > math.MaxInt64 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if st := s.checkIO(o, r.Offset, uint64(r.Length), false); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	f, err := o.dataFile(ctx)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	buf, release := getBuf(int(r.Length))
	n, err := f.ReadAt(buf, int64(r.Offset))
	if err != nil && !errors.Is(err, io.EOF) {
		release()
		return statusResponse(statusOf(err))
	}
	if n == 0 && r.Length > 0 || uint32(n) < r.MinimumCount {
		release()
		return statusResponse(smb2.StatusEndOfFile)
	}
	o.mu.Lock()
	o.position = int64(r.Offset) + int64(n) // FilePositionInformation follows I/O
	o.mu.Unlock()
	resp := smb2.ReadResponse{DataLength: uint32(n)}
	return &Response{Body: encodeBody(&resp), Data: buf[:n], Release: release}
}

// write writes to a file or pipe (MS-SMB2 3.3.5.13). The payload is handed
// to the backend straight from the receive buffer.
func (s *Server) write(ctx context.Context, req *Request) *Response {
	var r smb2.WriteRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if uint32(len(r.Data)) > req.conn.maxIO() || !req.checkCredits(uint32(len(r.Data))) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.pipe != nil {
		return s.writePipe(ctx, req, o, r.Data)
	}
	if o.isDir {
		return statusResponse(smb2.StatusInvalidDeviceRequest)
	}
	if o.access&(smb2.FileWriteData|smb2.FileAppendData) == 0 || req.Tree.readOnly {
		return statusResponse(smb2.StatusAccessDenied)
	}
	f, err := o.dataFile(ctx)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	off := r.Offset
	if o.access&smb2.FileWriteData == 0 {
		// Append only: at end of file (MS-FSA 2.1.5.3).
		fi, err := f.Stat()
		if err != nil {
			return statusResponse(statusOf(err))
		}
		off = uint64(fi.Size())
	}
	// Windows refuses a negative offset (-1 too: SMB2 has no
	// write-to-end-of-file offset) and data past NTFS's largest file; an
	// empty write at any other offset succeeds (smbtorture rw.invalid).
	size := uint64(len(r.Data))
	if off > math.MaxInt64 || size > 0 && off+size > maxFileSize {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if size == 0 {
		// Nothing to write changes nothing (as NTFS answers an empty
		// write); the backend is not asked, so an offset far past the
		// end costs nothing.
		return ok(&smb2.WriteResponse{})
	}
	if st := s.checkIO(o, off, size, true); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if st := o.checkVolumeRoom(ctx, off, size); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	o.breakReadCaching() // MS-FSA 2.1.5.3: others' level II and R leases
	before := o.writeTimeBefore(ctx)
	n, err := f.WriteAt(r.Data, int64(off))
	if err != nil {
		return statusResponse(statusOf(err))
	}
	if o.writesThrough(req, r.Flags) {
		if err := f.Sync(); err != nil {
			return statusResponse(statusOf(err))
		}
	}
	o.noteWrite(ctx, before) // the delayed last-write time (io_writetime.go)
	o.mu.Lock()
	o.written = true
	o.position = int64(off) + int64(n)
	o.mu.Unlock()
	o.notifyWrite() // CHANGE_NOTIFY (notify_modify.go)
	return ok(&smb2.WriteResponse{Count: uint32(n)})
}
