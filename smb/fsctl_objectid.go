package smb

import (
	"context"

	"github.com/cifsd/cifsd/smb2"
)

// FSCTLs about a file's compression state and object id (MS-FSCC 2.3).
const (
	fsctlGetCompression      uint32 = 0x0009003C // MS-FSCC 2.3.17
	fsctlSetCompression      uint32 = 0x0009C040 // MS-FSCC 2.3.67
	fsctlGetObjectID         uint32 = 0x0009009C // MS-FSCC 2.3.21
	fsctlCreateOrGetObjectID uint32 = 0x000900C0 // MS-FSCC 2.3.7
	compressionFormatNone    uint16 = 0x0000
	compressionFormatDefault uint16 = 0x0001
	compressionFormatLZNT1   uint16 = 0x0002
	fileObjectIDBufferLen           = 64 // FILE_OBJECTID_BUFFER, MS-FSCC 2.1.3
)

// compression answers FSCTL_GET_COMPRESSION and FSCTL_SET_COMPRESSION as
// Windows does on a volume without compression (ReFS, WS2016; MS-FSA
// 2.1.5.9.8, 2.1.5.9.37): every file is COMPRESSION_FORMAT_NONE, setting
// NONE succeeds and setting a format is STATUS_NOT_SUPPORTED.
func (s *Server) compression(ctx context.Context, req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.pipe != nil {
		return statusResponse(smb2.StatusInvalidDeviceRequest)
	}
	if r.CtlCode == fsctlGetCompression {
		if r.MaxOutputResponse < 2 {
			return statusResponse(smb2.StatusInvalidParameter)
		}
		return reply([]byte{byte(compressionFormatNone), 0}, smb2.StatusSuccess)
	}
	if len(r.Input) < 2 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if o.access&(smb2.FileWriteData|smb2.FileWriteAttributes) == 0 || o.tree.readOnly {
		return statusResponse(smb2.StatusAccessDenied)
	}
	switch uint16(r.Input[0]) | uint16(r.Input[1])<<8 {
	case compressionFormatNone:
		return reply(nil, smb2.StatusSuccess)
	case compressionFormatDefault, compressionFormatLZNT1:
		return statusResponse(smb2.StatusNotSupported)
	}
	return statusResponse(smb2.StatusInvalidParameter)
}

// objectID answers FSCTL_GET_OBJECT_ID and FSCTL_CREATE_OR_GET_OBJECT_ID
// (MS-FSA 2.1.5.9.11, 2.1.5.9.3). cifsd stores no object ids: every file
// has one derived from its file id and the server's GUID, so it is stable
// for the file's life and unique on the share. The FILE_OBJECTID_BUFFER
// (MS-FSCC 2.1.3) gives the id, the volume (the server GUID) it was born
// on, the same id as its birth id, and no domain id.
func (s *Server) objectID(ctx context.Context, req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	o, st := req.open(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	if o.pipe != nil {
		return statusResponse(smb2.StatusInvalidDeviceRequest)
	}
	if r.MaxOutputResponse < fileObjectIDBufferLen {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	m, st := o.fileMeta(ctx)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	b := make([]byte, fileObjectIDBufferLen)
	putUint64(b[0:], m.IndexNumber)
	putUint64(b[8:], s.volumeID())
	copy(b[16:32], s.guid[:])
	copy(b[32:48], b[0:16])
	return reply(b, smb2.StatusSuccess)
}
