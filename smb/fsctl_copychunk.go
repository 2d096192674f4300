package smb

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"io"

	"github.com/cifsd/cifsd/smb2"
)

// Server-side copy: FSCTL_SRV_REQUEST_RESUME_KEY and FSCTL_SRV_COPYCHUNK[_WRITE]
// (MS-SMB2 3.3.5.15.5, 3.3.5.15.6).
//
// A resume key is the open's file id (8 bytes; ids are unique across the
// server) followed by 16 random bytes drawn for that open when the key is
// first asked for. The id finds the open; the random part, compared in
// constant time, makes the key a capability no other client can forge.

// fileOpen finds the open of a file-system FSCTL: IPC$ has none.
func (req *Request) fileOpen(id smb2.FileID) (*Open, smb2.Status) {
	if req.Tree.share.ipc {
		return nil, smb2.StatusNotSupported
	}
	o, st := req.open(id)
	if st != smb2.StatusSuccess {
		return nil, st
	}
	if o.pipe != nil || o.node == nil {
		return nil, smb2.StatusInvalidDeviceRequest
	}
	return o, smb2.StatusSuccess
}

// resumeKey returns the open's resume key, drawing its secret on first use
// (MS-SMB2 3.3.5.15.5: Open.ResumeKey).
func (o *Open) resumeKey() ([smb2.ResumeKeySize]byte, error) {
	var k [smb2.ResumeKeySize]byte
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.resumeSecret == nil {
		s := make([]byte, smb2.ResumeKeySize-8)
		if _, err := rand.Read(s); err != nil {
			return k, err
		}
		o.resumeSecret = s
	}
	binary.LittleEndian.PutUint64(k[:], o.id.Volatile)
	copy(k[8:], o.resumeSecret)
	return k, nil
}

// openByResumeKey finds the open a resume key names, in any session of the
// server (MS-SMB2 3.3.5.15.6: the GlobalOpenTable), or nil.
func (s *Server) openByResumeKey(key [smb2.ResumeKeySize]byte) *Open {
	id := binary.LittleEndian.Uint64(key[:])
	s.sessions.mu.RLock()
	sessions := make([]*Session, 0, len(s.sessions.m))
	for _, sess := range s.sessions.m {
		sessions = append(sessions, sess)
	}
	s.sessions.mu.RUnlock()
	for _, sess := range sessions {
		o := sess.lookupOpen(smb2.FileID{Persistent: id, Volatile: id})
		if o == nil {
			continue
		}
		o.mu.Lock()
		ok := !o.isClosed && o.resumeSecret != nil &&
			subtle.ConstantTimeCompare(o.resumeSecret, key[8:]) == 1
		o.mu.Unlock()
		if ok {
			return o
		}
	}
	return nil
}

// requestResumeKey answers FSCTL_SRV_REQUEST_RESUME_KEY (MS-SMB2
// 3.3.5.15.5) with SRV_REQUEST_RESUME_KEY (2.2.32.3).
func (s *Server) requestResumeKey(req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	o, st := req.fileOpen(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	out := smb2.ResumeKeyResponse{}
	if r.MaxOutputResponse < uint32(out.Size()) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	key, err := o.resumeKey()
	if err != nil {
		return statusResponse(smb2.StatusInsufficientResources)
	}
	out.ResumeKey = key
	return reply(encodeBody(&out), smb2.StatusSuccess)
}

// copychunkLimits is the SRV_COPYCHUNK_RESPONSE sent with
// STATUS_INVALID_PARAMETER: the server's limits (MS-SMB2 3.3.5.15.6.2).
var copychunkLimits = smb2.SrvCopychunkResponse{
	ChunksWritten:     smb2.CopychunkMaxChunks,
	ChunkBytesWritten: smb2.CopychunkMaxChunkSize,
	TotalBytesWritten: smb2.CopychunkMaxDataSize,
}

// copychunk answers FSCTL_SRV_COPYCHUNK and FSCTL_SRV_COPYCHUNK_WRITE
// (MS-SMB2 3.3.5.15.6): it copies each chunk from the open the resume key
// names to the open the request names, through the backend's ReadAt and
// WriteAt with one pooled buffer, checking byte-range locks as READ and
// WRITE do (Windows Server 2012 and later).
func (s *Server) copychunk(ctx context.Context, req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	dst, st := req.fileOpen(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	var cc smb2.SrvCopychunkCopy
	if err := cc.Decode(r.Input); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	src := s.openByResumeKey(cc.SourceKey)
	if src == nil {
		return statusResponse(smb2.StatusObjectNameNotFound)
	}
	if r.MaxOutputResponse < smb2.SrvCopychunkResponseSize {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if !copychunkValid(&cc) {
		return reply(encodeBody(&copychunkLimits), smb2.StatusInvalidParameter)
	}
	if !src.hasData() || !dst.hasData() {
		return statusResponse(smb2.StatusInvalidDeviceRequest) // directories
	}
	// Access (MS-SMB2 3.3.5.15.6): the source must be readable (read data
	// or execute, as for READ; Windows Server 2012 and later accept
	// execute), the target writable and, for FSCTL_SRV_COPYCHUNK (not
	// _WRITE), readable too.
	if src.access&(smb2.FileReadData|smb2.FileExecute) == 0 ||
		dst.access&smb2.FileWriteData == 0 || req.Tree.readOnly ||
		r.CtlCode == smb2.FsctlSrvCopychunk && dst.access&smb2.FileReadData == 0 {
		return statusResponse(smb2.StatusAccessDenied)
	}
	// The source is not in line (conn_order.go): a stream rename may swap its
	// file, so it is read under its lock (dataFile); a source closed
	// meanwhile fails the copy with the backend's error.
	srcFile, err := src.dataFile(ctx)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	dstFile, err := dst.dataFile(ctx)
	if err != nil {
		return statusResponse(statusOf(err))
	}

	var biggest uint32
	for _, ch := range cc.Chunks {
		biggest = max(biggest, ch.Length)
	}
	buf, release := getBuf(int(biggest))
	defer release()
	var resp smb2.SrvCopychunkResponse
	fail := func(st smb2.Status) *Response {
		// The response reports the chunks written before the failure
		// (MS-SMB2 2.2.32.1).
		return reply(encodeBody(&resp), st)
	}
	for _, ch := range cc.Chunks {
		if ctx.Err() != nil {
			return fail(smb2.StatusCancelled)
		}
		n := uint64(ch.Length)
		if st := s.checkIO(src, ch.SourceOffset, n, false); st != smb2.StatusSuccess {
			return fail(st)
		}
		if st := s.checkIO(dst, ch.TargetOffset, n, true); st != smb2.StatusSuccess {
			return fail(st)
		}
		// The whole chunk is read before any of it is written, so a copy
		// within one file whose ranges overlap reads the original data.
		b := buf[:ch.Length]
		got, err := srcFile.ReadAt(b, int64(ch.SourceOffset))
		if err != nil && !errors.Is(err, io.EOF) {
			return fail(statusOf(err))
		}
		if got < len(b) {
			// The chunk reaches past the source's end of file.
			return fail(smb2.StatusInvalidViewSize)
		}
		if _, err := dstFile.WriteAt(b, int64(ch.TargetOffset)); err != nil {
			return fail(statusOf(err))
		}
		dst.mu.Lock()
		dst.written = true
		dst.mu.Unlock()
		resp.ChunksWritten++
		resp.TotalBytesWritten += ch.Length
	}
	return reply(encodeBody(&resp), smb2.StatusSuccess)
}

// copychunkValid applies the limits of MS-SMB2 3.3.5.15.6: the chunk array
// is complete and within ServerSideCopyMaxNumberofChunks, no chunk is empty
// or longer than ServerSideCopyMaxChunkSize, the total is within
// ServerSideCopyMaxDataSize, and no range runs past what a file can hold.
func copychunkValid(cc *smb2.SrvCopychunkCopy) bool {
	if len(cc.Chunks) == 0 {
		return false
	}
	var total uint64
	for _, ch := range cc.Chunks {
		if ch.Length == 0 || ch.Length > smb2.CopychunkMaxChunkSize {
			return false
		}
		if ch.SourceOffset > maxFileOffset-uint64(ch.Length) || ch.TargetOffset > maxFileOffset-uint64(ch.Length) {
			return false
		}
		total += uint64(ch.Length)
	}
	return total <= smb2.CopychunkMaxDataSize
}

// maxFileOffset bounds offsets the server hands a backend, as READ and
// WRITE do.
const maxFileOffset = 1 << 62
