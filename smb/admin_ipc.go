package smb

import (
	"context"
	"strings"

	"github.com/cifsd/cifsd/rpc"
	"github.com/cifsd/cifsd/smb2"
)

// rpcServer is the DCE/RPC endpoint behind IPC$: srvsvc, wkssvc, lsarpc,
// samr and winreg, over the server's shares, accounts and live state
// (admin_accounts.go, admin_rpc.go).
func (s *Server) rpcServer() *rpc.Server {
	s.rpcOnce.Do(func() {
		s.rpc = &rpc.Server{
			ServerName: s.serverName(),
			Domain:     "WORKGROUP",
			Comment:    s.Comment,
			Shares:     s.shareInfos,
			Accounts:   directory{s},
			State:      adminState{s},
			Logger:     s.logger(),
		}
	})
	return s.rpc
}

// shareInfos lists the shares for NetrShareEnum.
func (s *Server) shareInfos(ctx context.Context) []rpc.ShareInfo {
	uses := s.treeCounts()
	shares := s.shareSource().Shares(ctx, nil)
	out := make([]rpc.ShareInfo, 0, len(shares)+1)
	for _, sh := range shares {
		if !sh.browsable() { // browseable, available (share_policy.go)
			continue
		}
		out = append(out, rpc.ShareInfo{Name: sh.Name, Type: rpc.ShareTypeDisk, Comment: sh.Comment,
			CurrentUses: uses[strings.ToUpper(sh.Name)]})
	}
	out = append(out, rpc.ShareInfo{Name: "IPC$", Type: rpc.ShareTypeIPC | rpc.ShareTypeSpecial, Comment: "IPC Service",
		CurrentUses: uses["IPC$"]})
	return out
}

// createPipe opens a named pipe on IPC$.
func (s *Server) createPipe(ctx context.Context, req *Request, r *smb2.CreateRequest) *Response {
	name := strings.TrimPrefix(strings.ToLower(r.Name), `\`)
	p, err := s.rpcServer().Open(ctx, name, s.callerOf(req.Session))
	if err != nil {
		return statusResponse(smb2.StatusObjectNameNotFound)
	}
	o := &Open{
		session:     req.Session,
		tree:        req.Tree,
		share:       req.Tree.share,
		name:        name,
		pipe:        p,
		access:      mapGeneric(r.DesiredAccess),
		shareAccess: r.ShareAccess,
	}
	req.Session.addOpen(o)
	req.compound.fileID, req.compound.hasFileID = o.id, true
	return ok(&smb2.CreateResponse{
		CreateAction:   fileOpened,
		FileAttributes: 0x80, // FILE_ATTRIBUTE_NORMAL
		FileId:         o.id,
	})
}

// readPipe returns the pipe's pending output; a message longer than the
// read comes in pieces with STATUS_BUFFER_OVERFLOW (MS-SMB2 3.3.5.12).
func (s *Server) readPipe(ctx context.Context, req *Request, o *Open, length uint32) *Response {
	buf := make([]byte, length)
	n, more, err := o.pipe.Read(ctx, buf)
	if err != nil {
		return statusResponse(statusOf(err))
	}
	resp := &Response{Body: encodeBody(&smb2.ReadResponse{DataLength: uint32(n)}), Data: buf[:n]}
	if more {
		resp.Status = smb2.StatusBufferOverflow
	}
	return resp
}

// writePipe hands a client's PDU bytes to the pipe.
func (s *Server) writePipe(ctx context.Context, req *Request, o *Open, data []byte) *Response {
	if err := o.pipe.Write(ctx, data); err != nil {
		return statusResponse(statusOf(err))
	}
	return ok(&smb2.WriteResponse{Count: uint32(len(data))})
}

// transceive answers FSCTL_PIPE_TRANSCEIVE: write a request, read the reply.
func (s *Server) transceive(ctx context.Context, req *Request, o *Open, in []byte, maxOut uint32) ([]byte, smb2.Status) {
	out := make([]byte, min(maxOut, req.conn.maxIO()))
	n, more, err := o.pipe.Transceive(ctx, in, out)
	if err != nil {
		return nil, statusOf(err)
	}
	if more {
		return out[:n], smb2.StatusBufferOverflow
	}
	return out[:n], smb2.StatusSuccess
}
