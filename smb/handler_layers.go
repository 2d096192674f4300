package smb

import (
	"context"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// sessionLayer finds the request's session (MS-SMB2 3.3.5.2.9), checks its
// signature (3.3.5.2.4) and encryption policy, and sets req.Session.
// NEGOTIATE and SESSION_SETUP pass through: they manage sessions themselves.
func (s *Server) sessionLayer(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request) *Response {
		h := &req.Header
		switch h.Command {
		case smb2.Negotiate:
			return next.ServeSMB(ctx, req)
		case smb2.Echo:
			if s.sessions.get(h.SessionID) == nil {
				// ECHO needs no session (MS-SMB2 3.3.5.2.9).
				return next.ServeSMB(ctx, req)
			}
		case smb2.SessionSetup:
			sess, byMaster, st := req.verifySessionSetup()
			if st != smb2.StatusSuccess {
				if sess != nil {
					// Signed with Session.SigningKey where the channel's
					// key was due: refused, and answered with that key.
					req.signWith(sess, true)
				} else {
					req.dontSign()
				}
				return statusResponse(st)
			}
			resp := next.ServeSMB(ctx, req)
			switch {
			case sess == nil || req.reply.sign.by != nil:
			case req.binding():
				if !req.reply.sign.never { // interim answers sign themselves (session_bind.go)
					req.signWith(sess, true)
				}
			default:
				// A signed re-authentication is answered signed, its
				// interim and failed legs too, with the key that verified
				// it: a client that requires signing takes no unsigned
				// answer (MS-SMB2 3.3.4.1.1), and on a bound channel
				// clients check the channel's key where they have one.
				req.signWith(sess, byMaster)
			}
			return resp
		}
		if req.conn.dialect() == 0 {
			// Nothing but NEGOTIATE before NEGOTIATE.
			return req.dropConn()
		}
		id := h.SessionID
		if h.Flags&smb2.FlagsRelatedOps != 0 && id == ^uint64(0) {
			if req.compound.sessionID == 0 {
				// Nothing before it in the chain established a session.
				resp := statusResponse(smb2.StatusInvalidParameter)
				echoSignature(req) // session_signing_errors.go
				return resp
			}
			id = req.compound.sessionID
		}
		sess := s.sessions.get(id)
		if sess != nil && !sess.boundTo(req.conn) {
			// MS-SMB2 3.3.5.2.9: a session is found only on its channels;
			// elsewhere its id names nothing until the connection binds.
			resp := statusResponse(smb2.StatusUserSessionDeleted)
			if h.Flags&smb2.FlagsSigned != 0 && sess.canSign() && sess.keys.signer.Verify(req.Msg) {
				// Signed by the session: so is the answer, which
				// clients that require signing insist on.
				req.signWith(sess, true)
			}
			return resp
		}
		if sess == nil {
			resp := statusResponse(smb2.StatusUserSessionDeleted)
			// A request signed by a session that just logged off gets a
			// signed answer, which signing clients insist on.
			if old := req.conn.loggedOff(id); old != nil && h.Flags&smb2.FlagsSigned != 0 && old.verify(req.conn, req.Msg) {
				req.signed = true
				req.signWith(old, false)
			} else {
				echoSignature(req) // session_signing_errors.go
			}
			return resp
		}
		sess.mu.Lock()
		state := sess.state
		sess.mu.Unlock()
		switch state {
		case sessionInProgress:
			return statusResponse(smb2.StatusUserSessionDeleted)
		case sessionExpired:
			return statusResponse(smb2.StatusNetworkSessionExpired)
		}
		req.Session = sess
		req.compound.sessionID = sess.ID
		sess.touch() // idle time (admin_rpc.go)
		if !req.Encrypted {
			if h.Flags&smb2.FlagsSigned != 0 {
				if !sess.verify(req.conn, req.Msg) {
					req.dontSign()
					return statusResponse(smb2.StatusAccessDenied)
				}
				req.signed = true
			} else if sess.signingRequired && h.Command != smb2.OplockBreak {
				req.dontSign()
				return statusResponse(smb2.StatusAccessDenied)
			}
			if sess.encryptData {
				// MS-SMB2 3.3.5.2.9: a session that must encrypt refuses
				// plain requests.
				return statusResponse(smb2.StatusAccessDenied)
			}
		}
		if sess.expired(time.Now()) && !allowedWhenExpired(req) {
			return statusResponse(smb2.StatusNetworkSessionExpired)
		}
		return next.ServeSMB(ctx, req)
	})
}

// verifySessionSetup checks the signature of a SESSION_SETUP naming a
// session that has keys (re-authentication, binding) and returns that
// session when the request is signed by it, and whether Session.SigningKey
// (not the channel's key) verified it. On one of the session's channels
// the channel's key verifies; elsewhere Session.SigningKey does, which is
// what a binding request is signed with (MS-SMB2 3.3.5.2.4).
func (req *Request) verifySessionSetup() (sess *Session, byMaster bool, st smb2.Status) {
	h := &req.Header
	if h.SessionID == 0 || req.Encrypted {
		return nil, false, smb2.StatusSuccess
	}
	sess = req.conn.srv.sessions.get(h.SessionID)
	if sess == nil || !sess.canSign() {
		return nil, false, smb2.StatusSuccess
	}
	if h.Flags&smb2.FlagsSigned == 0 {
		sess.mu.Lock()
		must := sess.state == sessionValid && sess.signingRequired
		sess.mu.Unlock()
		if must && sess.boundTo(req.conn) {
			// Re-authenticating a session that signs takes a signed
			// request (MS-SMB2 3.3.5.2.4).
			return nil, false, smb2.StatusAccessDenied
		}
		return nil, false, smb2.StatusSuccess
	}
	signer := sess.signerOn(req.conn)
	if req.binding() {
		signer = sess.keys.signer // a binding is signed by the session
	}
	if signer.Verify(req.Msg) {
		req.signed = true
		return sess, signer == sess.keys.signer, smb2.StatusSuccess
	}
	if signer != sess.keys.signer && sess.keys.signer.Verify(req.Msg) {
		// Signed with Session.SigningKey where the channel's key was due
		// (a re-authentication on a bound channel): refused, as Windows
		// and Samba refuse it.
		return sess, true, smb2.StatusAccessDenied
	}
	return nil, false, smb2.StatusAccessDenied
}

// binding reports whether req is a SESSION_SETUP that binds a connection
// to a session (SMB2_SESSION_FLAG_BINDING, MS-SMB2 2.2.5).
func (req *Request) binding() bool {
	const flagsOffset = smb2.HeaderSize + 2
	return req.Header.Command == smb2.SessionSetup && len(req.Msg) > flagsOffset &&
		req.Msg[flagsOffset]&smb2.SessionFlagBinding != 0
}

// needsTree lists the commands that act within a tree connect.
var needsTree = [smb2.NumCommands]bool{
	smb2.TreeDisconnect: true, smb2.Create: true, smb2.Close: true, smb2.Flush: true,
	smb2.Read: true, smb2.Write: true, smb2.Lock: true, smb2.Ioctl: true,
	smb2.QueryDirectory: true, smb2.ChangeNotify: true, smb2.QueryInfo: true,
	smb2.SetInfo: true, smb2.OplockBreak: true,
}

// treeLayer finds the request's tree connect (MS-SMB2 3.3.5.2.11).
func (s *Server) treeLayer(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request) *Response {
		h := &req.Header
		if int(h.Command) >= len(needsTree) || !needsTree[h.Command] {
			return next.ServeSMB(ctx, req)
		}
		id := h.TreeID
		if h.Flags&smb2.FlagsRelatedOps != 0 && id == ^uint32(0) {
			id = req.compound.treeID
		}
		sess := req.Session
		sess.mu.Lock()
		t := sess.trees[id]
		sess.mu.Unlock()
		if t == nil {
			return statusResponse(smb2.StatusNetworkNameDeleted)
		}
		if t.encrypt && !req.Encrypted {
			return statusResponse(smb2.StatusAccessDenied)
		}
		req.Tree = t
		req.compound.treeID = t.ID
		return next.ServeSMB(ctx, req)
	})
}

// dispatch calls the handler of the request's command.
func (s *Server) dispatch(ctx context.Context, req *Request) *Response {
	switch req.Header.Command {
	case smb2.Negotiate:
		return s.negotiate(ctx, req)
	case smb2.SessionSetup:
		return s.sessionSetup(ctx, req)
	case smb2.Logoff:
		return s.logoff(ctx, req)
	case smb2.TreeConnect:
		return s.treeConnect(ctx, req)
	case smb2.TreeDisconnect:
		return s.treeDisconnect(ctx, req)
	case smb2.Create:
		return s.create(ctx, req)
	case smb2.Close:
		return s.closeFile(ctx, req)
	case smb2.Flush:
		return s.flush(ctx, req)
	case smb2.Read:
		return s.read(ctx, req)
	case smb2.Write:
		return s.write(ctx, req)
	case smb2.Lock:
		return s.lock(ctx, req)
	case smb2.Ioctl:
		return s.ioctl(ctx, req)
	case smb2.Echo:
		return s.echo(ctx, req)
	case smb2.QueryDirectory:
		return s.queryDirectory(ctx, req)
	case smb2.ChangeNotify:
		return s.changeNotify(ctx, req)
	case smb2.QueryInfo:
		return s.queryInfo(ctx, req)
	case smb2.SetInfo:
		return s.setInfo(ctx, req)
	case smb2.OplockBreak:
		return s.oplockBreak(ctx, req)
	}
	// Not a command of the protocol (MS-SMB2 3.3.5.2: invalid requests fail
	// with STATUS_INVALID_PARAMETER, as Windows and Samba answer).
	return statusResponse(smb2.StatusInvalidParameter)
}
