package smb

import (
	"context"
	"strings"

	"github.com/cifsd/cifsd/smb2"
)

// Maximal access masks reported for a tree connect and in MxAc.
const (
	accessFull     = 0x001F01FF // FILE_ALL_ACCESS
	accessReadOnly = 0x001200A9 // FILE_GENERIC_READ | FILE_GENERIC_EXECUTE
)

// treeConnect connects the session to a share (MS-SMB2 3.3.5.7).
func (s *Server) treeConnect(ctx context.Context, req *Request) *Response {
	var r smb2.TreeConnectRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	name := r.Path
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	sh := s.lookupShare(ctx, req.Session, name) // share_source.go
	if sh == nil {
		return statusResponse(smb2.StatusBadNetworkName)
	}
	sess := req.Session
	if st := sh.admitTree(sess); st != smb2.StatusSuccess { // share_policy.go
		return statusResponse(st)
	}
	encrypt := sh.cfg.Encrypt && !sh.ipc
	if encrypt && (req.Dialect() < smb2.Dialect300 || !sess.keys.canEncrypt()) {
		// MS-SMB2 3.3.5.7: a share that needs encryption refuses a
		// connection that cannot encrypt.
		return statusResponse(smb2.StatusAccessDenied)
	}
	t := &Tree{
		ID:       uint32(s.nextID.Add(1)),
		Share:    sh.cfg,
		share:    sh,
		session:  sess,
		readOnly: sh.readOnlyFor(sess), // read list, write list (share_policy.go)
		encrypt:  encrypt,
	}
	if !sh.acquire(t) { // MaxConnections (share_policy.go)
		return statusResponse(smb2.StatusInsufficientResources)
	}
	sess.mu.Lock()
	if sess.trees == nil {
		sess.trees = make(map[uint32]*Tree)
	}
	sess.trees[t.ID] = t
	sess.mu.Unlock()

	resp := smb2.TreeConnectResponse{
		ShareType:     smb2.ShareTypeDisk,
		MaximalAccess: accessFull,
	}
	if sh.ipc {
		resp.ShareType = smb2.ShareTypePipe
		resp.ShareFlags = smb2.ShareFlagNoCaching
	}
	if t.readOnly {
		resp.MaximalAccess = accessReadOnly
	}
	if encrypt {
		resp.ShareFlags |= smb2.ShareFlagEncryptData
	}
	dfsFlags, dfsCaps := s.dfsShareFlags(sh) // a DFS root (dfs.go)
	resp.ShareFlags |= dfsFlags
	resp.Capabilities |= dfsCaps
	req.replyTree(t.ID)
	req.compound.treeID = t.ID
	return ok(&resp)
}

// treeDisconnect ends a tree connect (MS-SMB2 3.3.5.8).
func (s *Server) treeDisconnect(ctx context.Context, req *Request) *Response {
	t := req.Tree
	sess := req.Session
	sess.mu.Lock()
	delete(sess.trees, t.ID)
	sess.mu.Unlock()
	t.disconnect()
	return ok(smb2.SimpleBody{})
}

// echo answers ECHO (MS-SMB2 3.3.5.17).
func (s *Server) echo(ctx context.Context, req *Request) *Response {
	return ok(smb2.SimpleBody{})
}
