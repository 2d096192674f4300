package smb

import (
	"context"
	"fmt"
	"slices"

	"github.com/cifsd/cifsd/smb2"
)

// ioctl dispatches an IOCTL/FSCTL (MS-SMB2 3.3.5.15).
func (s *Server) ioctl(ctx context.Context, req *Request) *Response {
	var r smb2.IoctlRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if r.Flags&smb2.IoctlIsFsctl == 0 {
		return statusResponse(smb2.StatusNotSupported)
	}
	if uint32(len(r.Input)) > req.conn.maxIO() || r.MaxOutputResponse > req.conn.maxIO() ||
		!req.checkCredits(max(uint32(len(r.Input)), r.MaxOutputResponse)) {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	reply := func(out []byte, st smb2.Status) *Response {
		resp := &smb2.IoctlResponse{CtlCode: r.CtlCode, FileId: r.FileId, Output: out}
		return &Response{Status: st, Body: encodeBody(resp)}
	}
	switch r.CtlCode {
	case smb2.FsctlDfsGetReferrals, smb2.FsctlDfsGetReferralsEx, smb2.FsctlQueryNetworkInterfaceInfo,
		smb2.FsctlValidateNegotiateInfo, smb2.FsctlPipeWait:
		// These name no open: the FileId must be all ones (MS-SMB2
		// 3.3.5.15).
		if r.FileId != (smb2.FileID{Persistent: ^uint64(0), Volatile: ^uint64(0)}) {
			return statusResponse(smb2.StatusInvalidParameter)
		}
	}
	switch r.CtlCode {
	case smb2.FsctlValidateNegotiateInfo:
		return s.validateNegotiate(req, &r, reply)
	case smb2.FsctlPipeTransceive:
		o, st := req.open(r.FileId)
		if st != smb2.StatusSuccess {
			return statusResponse(st)
		}
		if o.pipe == nil {
			return statusResponse(smb2.StatusNotSupported)
		}
		out, st := s.transceive(ctx, req, o, r.Input, r.MaxOutputResponse)
		if st.IsError() {
			return statusResponse(st)
		}
		return reply(out, st)
	case smb2.FsctlSrvRequestResumeKey:
		return s.requestResumeKey(req, &r, reply)
	case smb2.FsctlSrvCopychunk, smb2.FsctlSrvCopychunkWrite:
		return s.copychunk(ctx, req, &r, reply)
	case smb2.FsctlSetSparse:
		return s.setSparse(ctx, req, &r, reply)
	case smb2.FsctlSetZeroData:
		return s.setZeroData(ctx, req, &r, reply)
	case smb2.FsctlQueryAllocatedRanges:
		return s.queryAllocatedRanges(ctx, req, &r, reply)
	case fsctlGetCompression, fsctlSetCompression:
		return s.compression(ctx, req, &r, reply)
	case fsctlGetObjectID, smb2.FsctlCreateOrGetObjectID:
		return s.objectID(ctx, req, &r, reply)
	case smb2.FsctlDfsGetReferrals, smb2.FsctlDfsGetReferralsEx:
		return s.dfsReferral(ctx, req, &r, reply) // dfs.go
	case smb2.FsctlQueryNetworkInterfaceInfo:
		return s.networkInterfaceInfo(req, &r, reply) // fsctl_netif.go
	case smb2.FsctlLmrRequestResiliency:
		return s.requestResiliency(req, &r, reply) // open_resilient.go
	}
	if req.Tree.share.ipc {
		return statusResponse(smb2.StatusNotSupported)
	}
	// The handle is checked before the control code, as Windows does: an
	// FSCTL on no open file is FILE_CLOSED whatever it asks (compound
	// related5).
	if _, st := req.open(r.FileId); st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	// Windows answers FSCTLs a file system does not implement so.
	req.conn.log.Debug("fsctl not implemented", "code", fmt.Sprintf("%#08x", r.CtlCode))
	return statusResponse(smb2.StatusInvalidDeviceRequest)
}

// validateNegotiate answers FSCTL_VALIDATE_NEGOTIATE_INFO: any difference
// from what NEGOTIATE settled means the negotiation was tampered with, and
// the connection is dropped (MS-SMB2 3.3.5.15.12).
func (s *Server) validateNegotiate(req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	c := req.conn
	if c.dialect() == smb2.Dialect311 {
		return req.dropConn()
	}
	var v smb2.ValidateNegotiateInfoRequest
	if err := v.Decode(r.Input); err != nil {
		return req.dropConn()
	}
	if r.MaxOutputResponse < 24 {
		return req.dropConn()
	}
	n := &c.neg
	if !slices.Equal(v.Dialects, n.clientDialects) ||
		s.selectDialect(v.Dialects) != c.dialect() ||
		v.Guid != n.clientGUID ||
		v.SecurityMode != n.clientSecMode ||
		v.Capabilities != n.clientCaps {
		c.log.Warn("validate negotiate mismatch: dropping connection")
		return req.dropConn()
	}
	out := smb2.ValidateNegotiateInfoResponse{
		Capabilities: n.serverCaps,
		Guid:         s.guid,
		SecurityMode: n.serverSecMode,
		Dialect:      c.dialect(),
	}
	return reply(encodeBody(&out), smb2.StatusSuccess)
}
