package smb

import (
	"context"
	"errors"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
)

// sessionSetup runs one leg of an authentication exchange
// (MS-SMB2 3.3.5.5).
func (s *Server) sessionSetup(ctx context.Context, req *Request) *Response {
	c := req.conn
	if c.dialect() == 0 {
		return req.dropConn()
	}
	var r smb2.SessionSetupRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if r.Flags&smb2.SessionFlagBinding != 0 {
		return s.bindSession(ctx, req, &r) // session_bind.go
	}
	if s.Auth == nil && !s.AllowAnonymous {
		return statusResponse(smb2.StatusLogonFailure)
	}

	var sess *Session
	isNew := req.Header.SessionID == 0
	if isNew {
		if s.sessionLimitReached(c) { // conn_limits.go
			return statusResponse(smb2.StatusInsufficientResources)
		}
		sess = &Session{ID: s.nextID.Add(1), srv: s, state: sessionInProgress, created: time.Now()}
		sess.addChannel(c, nil) // its signing key comes with authentication
		if c.dialect() == smb2.Dialect311 {
			c.preauthMu.Lock()
			sess.keys.preauth = c.preauth
			c.preauthMu.Unlock()
		}
		s.sessions.add(sess)
	} else {
		sess = s.sessions.get(req.Header.SessionID)
		if sess == nil || !sess.boundTo(c) {
			return statusResponse(smb2.StatusUserSessionDeleted)
		}
	}
	fail := func(st smb2.Status) *Response {
		sess.mu.Lock()
		sess.authCtx = nil
		valid := sess.state == sessionValid
		sess.mu.Unlock()
		// MS-SMB2 3.3.5.5.3: a failed exchange removes the session, even a
		// valid one being re-authenticated, and closes its opens; its later
		// requests get a signed STATUS_USER_SESSION_DELETED.
		if s.sessions.remove(sess.ID) != nil && valid {
			sess.rememberGone()
			sess.teardown()
		}
		req.replySession(sess.ID)
		req.dontSign()
		return statusResponse(st)
	}

	sess.mu.Lock()
	actx := sess.authCtx
	if actx == nil && len(r.SecurityBuffer) == 0 && s.AllowAnonymous && s.Auth == nil {
		actx = anonymousContext{}
	}
	if actx == nil {
		sess.mu.Unlock()
		a, err := s.Auth.Start(ctx)
		if err != nil {
			return fail(smb2.StatusInternalError)
		}
		actx = a
		sess.mu.Lock()
		sess.authCtx = actx
	}
	if c.dialect() == smb2.Dialect311 {
		sess.keys.preauth.Update(req.Msg)
	}
	sess.mu.Unlock()

	out, done, err := actx.Accept(ctx, r.SecurityBuffer)
	if err != nil {
		c.log.Info("authentication failed", "err", err)
		st := authStatus(err)
		if st == smb2.StatusLogonFailure && !s.throttleFailedLogon(ctx, c) { // session_throttle.go
			fail(st)
			return req.dropConn()
		}
		return fail(st)
	}
	if !done {
		req.replySession(sess.ID)
		req.dontSign()
		req.afterEncode(func(msg []byte) {
			if c.dialect() == smb2.Dialect311 {
				sess.mu.Lock()
				sess.keys.preauth.Update(msg)
				sess.mu.Unlock()
			}
		})
		return &Response{
			Status: smb2.StatusMoreProcessingRequired,
			Body:   encodeBody(&smb2.SessionSetupResponse{SecurityBuffer: out}),
		}
	}

	res := actx.Result()
	if res == nil {
		return fail(smb2.StatusInternalError)
	}
	if res.Anonymous && !s.AllowAnonymous {
		return fail(smb2.StatusLogonFailure)
	}
	var flags uint16
	switch {
	case res.Anonymous:
		flags = smb2.SessionFlagIsNull
	case res.Guest:
		flags = smb2.SessionFlagIsGuest
	}
	sess.mu.Lock()
	// Re-authentication may change the session's user (to anonymous, say):
	// opens keep the access they were granted, new ones are checked as the
	// new user; the keys stay those of the first authentication, as
	// Windows and Samba keep them (MS-SMB2 3.3.5.5.3 derives keys only
	// for a new session or a binding).
	reauth := sess.state == sessionValid
	if s.encryptionRequired() && !reauth && (res.Anonymous || res.Guest || len(res.SessionKey) == 0 ||
		c.dialect() < smb2.Dialect300 || c.neg.cipher == 0) {
		// A session that cannot encrypt is refused when encryption is
		// required (Windows' RejectUnencryptedAccess, MS-SMB2 3.3.5.5.3).
		sess.authCtx = nil
		sess.mu.Unlock()
		return fail(smb2.StatusAccessDenied)
	}
	sess.setIdentity(res.Identity)
	sess.expires = res.Expires
	sess.authCtx = nil
	if !reauth && !sess.isGuest() && len(res.SessionKey) > 0 {
		sess.deriveKeys(c, res.SessionKey)
		sess.signingRequired = s.Signing == SigningRequired ||
			c.neg.clientSecMode&smb2.NegotiateSigningRequired != 0
		if c.dialect() >= smb2.Dialect300 && s.encryptionRequired() && sess.keys.canEncrypt() {
			sess.encryptData = true
		}
	}
	if sess.encryptData {
		flags |= smb2.SessionFlagEncryptData
	}
	sess.state = sessionValid
	sess.mu.Unlock()
	if !c.authenticated.Swap(true) {
		c.srv.setState(c.nc, StateAuthenticated)
	}
	if !reauth && r.PreviousSessionId != 0 && r.PreviousSessionId != sess.ID {
		s.reconnected(c, r.PreviousSessionId, res.Identity)
	}
	c.log.Info("session established", "user", res.User, "domain", res.Domain,
		"guest", res.Guest, "anonymous", res.Anonymous, "session", sess.ID)
	req.replySession(sess.ID)
	if sess.canSign() {
		req.signWith(sess, false) // MS-SMB2 3.3.5.5.3: the final response is signed
	} else {
		req.dontSign()
	}
	return &Response{Body: encodeBody(&smb2.SessionSetupResponse{SessionFlags: flags, SecurityBuffer: out})}
}

// reconnected ends the client's previous session, which it names when it
// reconnects after losing a connection (MS-SMB2 3.3.5.5.3): only a session
// of the same user is ended.
func (s *Server) reconnected(c *conn, prevID uint64, id auth.Identity) {
	prev := s.sessions.get(prevID)
	if prev == nil {
		return
	}
	prev.mu.Lock()
	same := prev.state == sessionValid && !prev.isGuest() && sameUser(prev.Identity(), id)
	prev.mu.Unlock()
	if !same || s.sessions.remove(prevID) == nil {
		return
	}
	prev.rememberGone()
	prev.disconnect() // its durable opens wait for the client (open_durable.go)
	c.log.Info("previous session ended by reconnect", "session", prevID)
}

func sameUser(a, b auth.Identity) bool {
	return a.Anonymous == b.Anonymous && a.Guest == b.Guest &&
		equalFold(a.User, b.User) && equalFold(a.Domain, b.Domain)
}

// authStatus maps an authentication error to the status Windows answers.
func authStatus(err error) smb2.Status {
	switch {
	case errors.Is(err, auth.ErrTimeSkew):
		return smb2.StatusTimeDifferenceAtDC
	case errors.Is(err, auth.ErrInvalidToken):
		return smb2.StatusInvalidParameter
	case errors.Is(err, auth.ErrAccessDenied):
		return smb2.StatusAccessDenied
	}
	return smb2.StatusLogonFailure
}

// anonymousContext admits a null session when no Auth is configured.
type anonymousContext struct{}

func (anonymousContext) Accept(context.Context, []byte) ([]byte, bool, error) {
	return nil, true, nil
}

func (anonymousContext) Result() *auth.Result {
	return &auth.Result{Identity: auth.Identity{Anonymous: true}}
}

// logoff ends the session (MS-SMB2 3.3.5.6).
func (s *Server) logoff(ctx context.Context, req *Request) *Response {
	sess := req.Session
	s.sessions.remove(sess.ID)
	sess.rememberGone()
	sess.disconnect() // MS-SMB2 3.3.5.6: durable opens are kept (open_durable.go)
	req.signWith(sess, false)
	return ok(smb2.SimpleBody{})
}
