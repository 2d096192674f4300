package smb

import (
	"encoding/binary"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// requestResiliency answers FSCTL_LMR_REQUEST_RESILIENCY (MS-SMB2
// 3.3.5.15.9): the open becomes resilient. A resilient open is kept like a
// durable one when its connection is lost, for the timeout the client asked
// (or the durable default), and a DHnC reconnects it (3.3.5.9.7); it
// verifies LockSequence (3.3.5.14). It lives in the same durableState, with
// resilient set: Open.IsDurable becomes FALSE, Open.IsResilient TRUE.
func (s *Server) requestResiliency(req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	if req.conn.dialect() == smb2.Dialect202 {
		// 3.3.5.15.9: Windows fails it so on SMB 2.0.2.
		return statusResponse(smb2.StatusInvalidDeviceRequest)
	}
	o, st := req.fileOpen(r.FileId)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	// NETWORK_RESILIENCY_REQUEST (2.2.31.3): Timeout in milliseconds, then
	// 4 reserved bytes.
	if len(r.Input) < 8 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	def, max := s.state.DurableTimeouts()
	timeout := time.Duration(binary.LittleEndian.Uint32(r.Input)) * time.Millisecond
	if timeout > max {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if timeout == 0 {
		timeout = def
	}
	sh := o.share
	sh.mu.Lock()
	if d := o.durable; d != nil {
		d.resilient, d.timeout = true, timeout
	} else {
		d = &durableState{
			resilient:  true,
			clientGuid: req.conn.neg.clientGUID,
			owner:      req.Session.Identity(), // Open.DurableOwner
			timeout:    timeout,
		}
		s.state.GrantDurableLocked(o, d)
	}
	sh.mu.Unlock()
	return reply(nil, smb2.StatusSuccess)
}
