package smb2

// FSCTL payloads for server-side copy (MS-SMB2 2.2.31.1, 2.2.32.1, 2.2.32.3)
// and sparse files (MS-FSCC 2.3.51, 2.3.52, 2.3.64, 2.3.67). Decoders take
// the IOCTL input buffer alone and never trust a count or length in it.

// Server-side copy limits this server enforces and reports (MS-SMB2
// 3.3.3: ServerSideCopyMaxNumberofChunks, ServerSideCopyMaxChunkSize,
// ServerSideCopyMaxDataSize; the values Windows uses).
const (
	CopychunkMaxChunks    = 256
	CopychunkMaxChunkSize = 1 << 20
	CopychunkMaxDataSize  = 16 << 20
)

// ResumeKeySize is the length of a copychunk resume key (MS-SMB2 2.2.32.3).
const ResumeKeySize = 24

// ResumeKeyResponse is SRV_REQUEST_RESUME_KEY (MS-SMB2 2.2.32.3): the key
// naming the source open, ContextLength 0 and 4 reserved Context bytes.
type ResumeKeyResponse struct {
	ResumeKey [ResumeKeySize]byte
}

// Size is the encoded length.
func (r *ResumeKeyResponse) Size() int { return ResumeKeySize + 8 }

// Encode writes the IOCTL output.
func (r *ResumeKeyResponse) Encode(b []byte) {
	copy(b, r.ResumeKey[:])
	clear(b[ResumeKeySize : ResumeKeySize+8]) // ContextLength, Context
}

// Decode reads a resume key response (the client side; tests).
func (r *ResumeKeyResponse) Decode(out []byte) error {
	if len(out) < ResumeKeySize+4 {
		return malformed("resume key")
	}
	copy(r.ResumeKey[:], out)
	return nil
}

// SrvCopychunk is one SRV_COPYCHUNK range (MS-SMB2 2.2.31.1.1).
type SrvCopychunk struct {
	SourceOffset uint64
	TargetOffset uint64
	Length       uint32
}

// SrvCopychunkCopy is SRV_COPYCHUNK_COPY (MS-SMB2 2.2.31.1).
type SrvCopychunkCopy struct {
	SourceKey  [ResumeKeySize]byte
	ChunkCount uint32 // as sent
	// Chunks holds the ranges when ChunkCount is at most
	// CopychunkMaxChunks and the input holds that many; otherwise it is
	// nil and the server answers with its limits (MS-SMB2 3.3.5.15.6).
	Chunks []SrvCopychunk
}

const (
	copychunkHeaderSize = ResumeKeySize + 8
	copychunkSize       = 24
)

// Decode reads the IOCTL input. It fails only when the input cannot hold
// SourceKey and ChunkCount.
func (c *SrvCopychunkCopy) Decode(in []byte) error {
	if len(in) < copychunkHeaderSize {
		return malformed("copychunk copy")
	}
	copy(c.SourceKey[:], in)
	c.ChunkCount = le.Uint32(in[ResumeKeySize:])
	c.Chunks = nil
	n := uint64(c.ChunkCount)
	if n > CopychunkMaxChunks || uint64(len(in)) < copychunkHeaderSize+n*copychunkSize {
		return nil
	}
	c.Chunks = make([]SrvCopychunk, n)
	for i := range c.Chunks {
		e := in[copychunkHeaderSize+copychunkSize*i:]
		c.Chunks[i] = SrvCopychunk{
			SourceOffset: le.Uint64(e),
			TargetOffset: le.Uint64(e[8:]),
			Length:       le.Uint32(e[16:]),
			// e[20:24] Reserved
		}
	}
	return nil
}

// Size is the encoded length.
func (c *SrvCopychunkCopy) Size() int { return copychunkHeaderSize + copychunkSize*len(c.Chunks) }

// Encode writes the IOCTL input (the client side; tests). ChunkCount is
// the number of Chunks.
func (c *SrvCopychunkCopy) Encode(b []byte) {
	copy(b, c.SourceKey[:])
	le.PutUint32(b[ResumeKeySize:], uint32(len(c.Chunks)))
	le.PutUint32(b[ResumeKeySize+4:], 0)
	for i, ch := range c.Chunks {
		e := b[copychunkHeaderSize+copychunkSize*i:]
		le.PutUint64(e, ch.SourceOffset)
		le.PutUint64(e[8:], ch.TargetOffset)
		le.PutUint32(e[16:], ch.Length)
		le.PutUint32(e[20:], 0)
	}
}

// SrvCopychunkResponse is SRV_COPYCHUNK_RESPONSE (MS-SMB2 2.2.32.1). With
// STATUS_INVALID_PARAMETER its fields carry the server's limits instead.
type SrvCopychunkResponse struct {
	ChunksWritten     uint32
	ChunkBytesWritten uint32
	TotalBytesWritten uint32
}

// SrvCopychunkResponseSize is the encoded length of SRV_COPYCHUNK_RESPONSE.
const SrvCopychunkResponseSize = 12

// Size is the encoded length.
func (r *SrvCopychunkResponse) Size() int { return SrvCopychunkResponseSize }

// Encode writes the IOCTL output.
func (r *SrvCopychunkResponse) Encode(b []byte) {
	le.PutUint32(b, r.ChunksWritten)
	le.PutUint32(b[4:], r.ChunkBytesWritten)
	le.PutUint32(b[8:], r.TotalBytesWritten)
}

// Decode reads the IOCTL output (the client side; tests).
func (r *SrvCopychunkResponse) Decode(out []byte) error {
	if len(out) < SrvCopychunkResponseSize {
		return malformed("copychunk response")
	}
	r.ChunksWritten = le.Uint32(out)
	r.ChunkBytesWritten = le.Uint32(out[4:])
	r.TotalBytesWritten = le.Uint32(out[8:])
	return nil
}

// DecodeSetSparse reads FILE_SET_SPARSE_BUFFER (MS-FSCC 2.3.64): without a
// buffer the request means SetSparse TRUE; bytes past the first are
// ignored, as Windows does (MS-FSA 2.1.5.9.34).
func DecodeSetSparse(in []byte) bool {
	return len(in) == 0 || in[0] != 0
}

// FileZeroDataInformation is FILE_ZERO_DATA_INFORMATION (MS-FSCC 2.3.67),
// the input of FSCTL_SET_ZERO_DATA. The fields are signed on the wire.
type FileZeroDataInformation struct {
	FileOffset      int64
	BeyondFinalZero int64
}

// FileZeroDataInformationSize is the encoded length.
const FileZeroDataInformationSize = 16

// Decode reads the IOCTL input.
func (z *FileZeroDataInformation) Decode(in []byte) error {
	if len(in) < FileZeroDataInformationSize {
		return malformed("zero data information")
	}
	z.FileOffset = int64(le.Uint64(in))
	z.BeyondFinalZero = int64(le.Uint64(in[8:]))
	return nil
}

// Size is the encoded length.
func (z *FileZeroDataInformation) Size() int { return FileZeroDataInformationSize }

// Encode writes the IOCTL input (the client side; tests).
func (z *FileZeroDataInformation) Encode(b []byte) {
	le.PutUint64(b, uint64(z.FileOffset))
	le.PutUint64(b[8:], uint64(z.BeyondFinalZero))
}

// FileAllocatedRangeBuffer is FILE_ALLOCATED_RANGE_BUFFER (MS-FSCC 2.3.52):
// the input of FSCTL_QUERY_ALLOCATED_RANGES, and each element of its output.
type FileAllocatedRangeBuffer struct {
	FileOffset int64
	Length     int64
}

// FileAllocatedRangeBufferSize is the encoded length of one range.
const FileAllocatedRangeBufferSize = 16

// Decode reads the IOCTL input (bytes past the first range are ignored).
func (r *FileAllocatedRangeBuffer) Decode(in []byte) error {
	if len(in) < FileAllocatedRangeBufferSize {
		return malformed("allocated range buffer")
	}
	r.FileOffset = int64(le.Uint64(in))
	r.Length = int64(le.Uint64(in[8:]))
	return nil
}

// Size is the encoded length.
func (r *FileAllocatedRangeBuffer) Size() int { return FileAllocatedRangeBufferSize }

// Encode writes one range.
func (r *FileAllocatedRangeBuffer) Encode(b []byte) {
	le.PutUint64(b, uint64(r.FileOffset))
	le.PutUint64(b[8:], uint64(r.Length))
}

// AllocatedRanges is the output of FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC
// 2.3.52): the ranges back to back.
type AllocatedRanges []FileAllocatedRangeBuffer

// Size is the encoded length.
func (a AllocatedRanges) Size() int { return FileAllocatedRangeBufferSize * len(a) }

// Encode writes the ranges.
func (a AllocatedRanges) Encode(b []byte) {
	for i := range a {
		a[i].Encode(b[FileAllocatedRangeBufferSize*i:])
	}
}

// DecodeAllocatedRanges reads an output buffer (the client side; tests);
// a trailing partial range is ignored.
func DecodeAllocatedRanges(out []byte) AllocatedRanges {
	n := len(out) / FileAllocatedRangeBufferSize
	a := make(AllocatedRanges, n)
	for i := range a {
		_ = a[i].Decode(out[FileAllocatedRangeBufferSize*i:])
	}
	return a
}
