package smb

import (
	"context"
	"sync"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb2"
)

// Multichannel session binding (MS-SMB2 3.3.5.5, SMB2_SESSION_FLAG_BINDING):
// a client authenticates again, as the same user, on another connection
// and that connection becomes a channel of the existing session, with a
// signing key of its own. The session's opens, tree connects and
// encryption keys are shared by all its channels.

// maxChannels is how many connections one session may use, as on Windows
// (smbtorture smb2.multichannel.generic.num_channels).
const maxChannels = 32

// maxPendingBinds bounds the binding exchanges one connection may have in
// progress at once.
const maxPendingBinds = 16

// pendingBind is a binding exchange in progress on a connection: the
// PreauthSession of MS-SMB2 3.3.1.15 plus the authentication state.
type pendingBind struct {
	actx    auth.Context
	preauth smbcrypto.PreauthHash // 3.1.1: the channel's key derivation context
}

// bindTable holds a connection's binding exchanges by session id.
type bindTable struct {
	mu sync.Mutex
	m  map[uint64]*pendingBind
}

func (t *bindTable) get(id uint64) *pendingBind {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

func (t *bindTable) put(id uint64, b *pendingBind) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[uint64]*pendingBind)
	}
	if _, ok := t.m[id]; !ok && len(t.m) >= maxPendingBinds {
		return false
	}
	t.m[id] = b
	return true
}

func (t *bindTable) remove(id uint64) {
	t.mu.Lock()
	delete(t.m, id)
	t.mu.Unlock()
}

// multiChannel reports whether sessions may be bound to more connections.
func (s *Server) multiChannel() bool { return !s.DisableMultiChannel }

// bindSession runs one leg of a session binding (MS-SMB2 3.3.5.5). The
// session layer has verified a signed request with the session's key, so
// refusals are signed with it (as Windows signs them; clients that require
// signing insist).
func (s *Server) bindSession(ctx context.Context, req *Request, r *smb2.SessionSetupRequest) *Response {
	c := req.conn
	d := c.dialect()
	if !s.multiChannel() {
		return statusResponse(smb2.StatusRequestNotAccepted)
	}
	sess := s.sessions.get(req.Header.SessionID)
	var home *conn
	if sess != nil {
		home = sess.primary()
	}
	if home == nil {
		if d < smb2.Dialect300 {
			return statusResponse(smb2.StatusRequestNotAccepted)
		}
		return statusResponse(smb2.StatusUserSessionDeleted)
	}
	sess.mu.Lock()
	state, guest := sess.state, sess.isGuest()
	sessAlg, sessCipher := sess.keys.signAlg, sess.keys.cipher
	sess.mu.Unlock()
	// The checks run in the order Windows makes them, which decides the
	// status when several fail (smbtorture smb2.session.bind_negative_*):
	// AES-GMAC signing on one side only comes first, whatever the
	// dialects; then the dialect family, then the dialect itself.
	if sess.canSign() {
		chanAlg := c.signingAlgorithm()
		switch {
		case sessAlg == smb2.SigningAESGMAC && chanAlg != smb2.SigningAESGMAC:
			return statusResponse(smb2.StatusRequestOutOfSequence)
		case sessAlg != smb2.SigningAESGMAC && chanAlg == smb2.SigningAESGMAC:
			return statusResponse(smb2.StatusNotSupported)
		}
	}
	if d < smb2.Dialect300 {
		// No multichannel before SMB 3.0 (MS-SMB2 3.3.5.5).
		return statusResponse(smb2.StatusRequestNotAccepted)
	}
	if home.dialect() != d {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if req.Header.Flags&smb2.FlagsSigned == 0 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if sess.boundTo(c) {
		return statusResponse(smb2.StatusAccessDenied) // already a channel
	}
	if sess.numChannels() >= maxChannels {
		return statusResponse(smb2.StatusInsufficientResources)
	}
	switch {
	case state == sessionInProgress:
		return statusResponse(smb2.StatusRequestNotAccepted)
	case state == sessionExpired || sess.expired(time.Now()):
		return statusResponse(smb2.StatusNetworkSessionExpired)
	case guest || !sess.canSign():
		return statusResponse(smb2.StatusNotSupported)
	}
	if d == smb2.Dialect311 && c.neg.cipher != sessCipher {
		// The channels of a session share its encryption keys, so they
		// must share its cipher.
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if s.Auth == nil {
		return statusResponse(smb2.StatusNotSupported)
	}

	b := c.binds.get(sess.ID)
	if b == nil {
		b = &pendingBind{}
		if d == smb2.Dialect311 {
			c.preauthMu.Lock()
			b.preauth = c.preauth
			c.preauthMu.Unlock()
		}
		a, err := s.Auth.Start(ctx)
		if err != nil {
			return statusResponse(smb2.StatusInternalError)
		}
		b.actx = a
		if !c.binds.put(sess.ID, b) {
			return statusResponse(smb2.StatusRequestNotAccepted)
		}
	}
	if d == smb2.Dialect311 {
		b.preauth.Update(req.Msg)
	}
	out, done, err := b.actx.Accept(ctx, r.SecurityBuffer)
	if err != nil {
		c.binds.remove(sess.ID)
		c.log.Info("session binding: authentication failed", "session", sess.ID, "err", err)
		st := authStatus(err)
		if st == smb2.StatusLogonFailure && !s.throttleFailedLogon(ctx, c) { // session_throttle.go
			return req.dropConn()
		}
		return statusResponse(st)
	}
	if !done {
		req.replySession(sess.ID)
		req.dontSign() // signed here, before the hash takes it
		req.afterEncode(func(msg []byte) {
			// The interim answers of a binding are signed with
			// Session.SigningKey, which proves the server to the
			// client before the channel has a key of its own.
			signMsg(sess.keys.signer, msg, nil)
			if d == smb2.Dialect311 {
				b.preauth.Update(msg)
			}
		})
		return &Response{
			Status: smb2.StatusMoreProcessingRequired,
			Body:   encodeBody(&smb2.SessionSetupResponse{SecurityBuffer: out}),
		}
	}
	c.binds.remove(sess.ID)
	res := b.actx.Result()
	if res == nil || len(res.SessionKey) == 0 {
		return statusResponse(smb2.StatusInternalError)
	}
	sess.mu.Lock()
	owner, encrypt := sess.Identity(), sess.encryptData
	sess.mu.Unlock()
	if res.Anonymous || res.Guest || !sameUser(owner, res.Identity) {
		// A channel belongs to the session's user (MS-SMB2 3.3.5.5.3).
		return statusResponse(smb2.StatusAccessDenied)
	}
	// The channel's signing key comes from this authentication's key and,
	// for 3.1.1, the binding exchange's own pre-auth hash; the encryption
	// keys stay the session's (MS-SMB2 3.3.5.5.3).
	keys := smbcrypto.DeriveKeys(d, res.SessionKey, b.preauth[:], c.neg.cipher)
	signer, err := smbcrypto.NewSigner(c.signingAlgorithm(), keys.SigningKey)
	if err != nil {
		c.log.Error("channel signing key", "err", err)
		return statusResponse(smb2.StatusInternalError)
	}
	sess.addChannel(c, signer)
	if !c.authenticated.Swap(true) {
		c.srv.setState(c.nc, StateAuthenticated)
	}
	c.log.Info("session bound", "user", res.User, "session", sess.ID, "channels", sess.numChannels())
	var flags uint16
	if encrypt {
		flags |= smb2.SessionFlagEncryptData
	}
	req.replySession(sess.ID)
	req.signWith(sess, false) // with the new channel's key
	return &Response{Body: encodeBody(&smb2.SessionSetupResponse{SessionFlags: flags, SecurityBuffer: out})}
}

// signingAlgorithm is the algorithm messages on c are signed with
// (MS-SMB2 3.1.4.1).
func (c *conn) signingAlgorithm() uint16 {
	d := c.dialect()
	return smbcrypto.SigningAlgorithm(d, c.neg.signingAlg, d == smb2.Dialect311 && c.neg.signingNeg)
}
