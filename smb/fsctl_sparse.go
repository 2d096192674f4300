package smb

import (
	"context"
	"errors"
	"math"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Sparse files: FSCTL_SET_SPARSE, FSCTL_SET_ZERO_DATA and
// FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC 2.3.64, 2.3.67, 2.3.51; MS-FSA
// 2.1.5.9.34, 2.1.5.9.38, 2.1.5.9.20). The sparse mark lives in the backend
// (vfs.Sparser), so it outlives the handle that set it; a backend without
// it does not advertise FILE_SUPPORTS_SPARSE_FILES and refuses SET_SPARSE.
// Holes are punched and found through vfs.PunchHole and vfs.DataRanges; a
// file that is not sparse reports its whole extent as allocated, as NTFS
// does.

// sparser returns the share's backend as a vfs.Sparser.
func (sh *shareState) sparser() (vfs.Sparser, bool) {
	if sh.cfg == nil || sh.cfg.FS == nil {
		return nil, false
	}
	sp, ok := vfs.As[vfs.Sparser](sh.cfg.FS)
	return sp, ok
}

// sparseAttr is FILE_ATTRIBUTE_SPARSE_FILE when the backend marks the
// regular file name sparse, else 0.
func (sh *shareState) sparseAttr(ctx context.Context, name string) uint32 {
	sp, ok := sh.sparser()
	if !ok || !sh.sparseMarked.Load() {
		// Asking the backend costs an open and an xattr read per file on
		// Dir, for every directory entry and QUERY_INFO; shares that never
		// saw FSCTL_SET_SPARSE since the server started skip it (marks
		// from an earlier run show again once any file is marked).
		return 0
	}
	if v, err := sp.Sparse(ctx, name); err == nil && v {
		return fscc.FileAttributeSparseFile
	}
	return 0
}

// sparseAttr is FILE_ATTRIBUTE_SPARSE_FILE when o's file is marked sparse.
// A named stream shares its file's mark.
func (o *Open) sparseAttr(ctx context.Context) uint32 {
	if o.pipe != nil || o.isDir || o.node == nil {
		return 0
	}
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	return o.share.sparseAttr(ctx, name)
}

// setSparse answers FSCTL_SET_SPARSE (MS-FSA 2.1.5.9.34).
func (s *Server) setSparse(ctx context.Context, req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	o, st := req.fileOpen(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	sp, ok := o.share.sparser()
	if !ok {
		return statusResponse(smb2.StatusInvalidDeviceRequest)
	}
	if o.isDir {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	// Any of write data, append data or write attributes will do.
	if o.access&(smb2.FileWriteData|smb2.FileAppendData|smb2.FileWriteAttributes) == 0 || req.Tree.readOnly {
		return statusResponse(smb2.StatusAccessDenied)
	}
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	o.share.sparseMarked.Store(true)
	if err := sp.SetSparse(ctx, name, smb2.DecodeSetSparse(r.Input)); err != nil {
		return statusResponse(statusOf(err))
	}
	o.share.breakParentLeases(o.dirOwner, name) // the attribute a listing shows (lease_dir.go)
	return reply(nil, smb2.StatusSuccess)
}

// setZeroData answers FSCTL_SET_ZERO_DATA (MS-FSA 2.1.5.9.38): the range,
// clipped to the end of file (the size never changes), is deallocated when
// the file is sparse and the backend can, and written with zeros otherwise.
func (s *Server) setZeroData(ctx context.Context, req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	o, st := req.fileOpen(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.isDir || !o.hasData() {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	var z smb2.FileZeroDataInformation
	if err := z.Decode(r.Input); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if z.FileOffset < 0 || z.BeyondFinalZero < 0 || z.FileOffset > z.BeyondFinalZero {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if o.access&smb2.FileWriteData == 0 || req.Tree.readOnly {
		return statusResponse(smb2.StatusAccessDenied)
	}
	f, err := o.dataFile(ctx)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	fi, err := f.Stat()
	if err != nil {
		return statusResponse(statusOf(err))
	}
	off, end := z.FileOffset, min(z.BeyondFinalZero, fi.Size())
	if off >= end {
		return reply(nil, smb2.StatusSuccess)
	}
	if st := s.checkIO(o, uint64(off), uint64(end-off), true); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.sparseAttr(ctx) != 0 {
		err := vfs.PunchHole(f, off, end-off)
		if err == nil {
			o.markWritten()
			return reply(nil, smb2.StatusSuccess)
		}
		if !errors.Is(err, errors.ErrUnsupported) {
			return statusResponse(statusOf(err))
		}
	}
	if st := writeZeros(ctx, f, off, end); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	o.markWritten()
	return reply(nil, smb2.StatusSuccess)
}

// writeZeros writes zeros over [off, end) of f, 1 MiB at a time from a
// pooled buffer.
func writeZeros(ctx context.Context, f vfs.File, off, end int64) smb2.Status {
	const step = 1 << 20
	buf, release := getBuf(int(min(end-off, step)))
	defer release()
	clear(buf)
	for off < end {
		if ctx.Err() != nil {
			return smb2.StatusCancelled
		}
		n := min(end-off, int64(len(buf)))
		if _, err := f.WriteAt(buf[:n], off); err != nil {
			return statusOf(err)
		}
		off += n
	}
	return smb2.StatusSuccess
}

func (o *Open) markWritten() {
	o.mu.Lock()
	o.written = true
	o.mu.Unlock()
}

// queryAllocatedRanges answers FSCTL_QUERY_ALLOCATED_RANGES (MS-FSA
// 2.1.5.9.20, MS-FSCC 2.3.51): the allocated ranges within the query,
// clipped to it and to the end of file.
func (s *Server) queryAllocatedRanges(ctx context.Context, req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	o, st := req.fileOpen(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.isDir || !o.hasData() {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	var q smb2.FileAllocatedRangeBuffer
	if err := q.Decode(r.Input); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if q.FileOffset < 0 || q.Length < 0 || q.FileOffset > math.MaxInt64-q.Length {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if o.access&smb2.FileReadData == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	f, err := o.dataFile(ctx)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	fi, err := f.Stat()
	if err != nil {
		return statusResponse(statusOf(err))
	}
	off, end := q.FileOffset, min(q.FileOffset+q.Length, fi.Size())
	if off >= end {
		return reply(nil, smb2.StatusSuccess)
	}
	fit := int(r.MaxOutputResponse / smb2.FileAllocatedRangeBufferSize)
	whole := []vfs.Range{{Off: off, Len: end - off}}
	ranges := whole
	if o.sparseAttr(ctx) != 0 {
		// One more than fits tells whether the answer overflows.
		got, known, err := vfs.DataRanges(f, off, end-off, fit+1)
		if err != nil {
			return statusResponse(statusOf(err))
		}
		if known {
			ranges = got
		}
	}
	if len(ranges) == 0 {
		return reply(nil, smb2.StatusSuccess)
	}
	if fit == 0 {
		return statusResponse(smb2.StatusBufferTooSmall)
	}
	st = smb2.StatusSuccess
	if len(ranges) > fit {
		ranges, st = ranges[:fit], smb2.StatusBufferOverflow
	}
	out := make(smb2.AllocatedRanges, len(ranges))
	for i, rg := range ranges {
		out[i] = smb2.FileAllocatedRangeBuffer{FileOffset: rg.Off, Length: rg.Len}
	}
	return reply(encodeBody(out), st)
}
