package smb

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
)

// Session is an authenticated session (MS-SMB2 3.3.1.8).
type Session struct {
	// ID is the SessionId on the wire.
	ID uint64
	// identity is the authenticated user; re-authentication may change
	// it while requests read it (Identity).
	identity atomic.Pointer[auth.Identity]
	// tok is the token of identity, kept (security.go's token).
	tok atomic.Pointer[sessionToken]

	srv *Server
	ch  channels // the connections bound to the session (session_channel.go)

	mu      sync.Mutex
	state   sessionState
	authCtx auth.Context // the exchange in progress
	keys    sessionKeys
	trees   map[uint32]*Tree
	opens   map[uint64]*Open // by volatile file id

	// expires is when the authentication lapses (a Kerberos ticket's end
	// time); zero never. Past it, requests other than re-authentication,
	// LOGOFF, CLOSE and unlocks get STATUS_NETWORK_SESSION_EXPIRED.
	expires time.Time

	// created is when the session was set up; lastSeen (Unix ns) when it
	// last carried a request: NetSessionEnum's time and idle time.
	created  time.Time
	lastSeen atomic.Int64

	signingRequired bool // every request must be signed (3.3.5.5.3)
	encryptData     bool // every request must be encrypted

	clientEncrypts atomic.Bool // an encrypted request arrived (Server.Sessions)
}

type sessionState int

const (
	sessionInProgress sessionState = iota
	sessionValid
	sessionExpired
)

// Identity is the session's authenticated user. Re-authentication may
// change it (MS-SMB2 3.3.5.5.3); each call returns the identity as it is
// then.
func (s *Session) Identity() auth.Identity {
	if id := s.identity.Load(); id != nil {
		return *id
	}
	return auth.Identity{}
}

// setIdentity records the user an authentication established.
func (s *Session) setIdentity(id auth.Identity) { s.identity.Store(&id) }

// isGuest reports whether the session has no keys of its own.
func (s *Session) isGuest() bool {
	id := s.Identity()
	return id.Guest || id.Anonymous
}

// sessionTable holds every session of the server by id.
type sessionTable struct {
	mu sync.RWMutex
	m  map[uint64]*Session
}

func (t *sessionTable) init() { t.m = make(map[uint64]*Session) }

func (t *sessionTable) get(id uint64) *Session {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[id]
}

func (t *sessionTable) add(s *Session) {
	t.mu.Lock()
	t.m[s.ID] = s
	t.mu.Unlock()
}

func (t *sessionTable) remove(id uint64) *Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[id]
	delete(t.m, id)
	return s
}

// dropConn unbinds c from every session and ends the sessions it was
// the last channel of (MS-SMB2 3.3.7.1).
func (t *sessionTable) dropConn(c *conn) {
	t.mu.Lock()
	var gone []*Session
	for id, s := range t.m {
		if s.boundTo(c) && s.removeChannel(c) {
			gone = append(gone, s)
			delete(t.m, id)
		}
	}
	t.mu.Unlock()
	for _, s := range gone {
		s.disconnect()
	}
}

// teardown closes the session's opens and tree connects (a failed
// re-authentication).
func (s *Session) teardown() { s.end(false) }

// disconnect ends the session because its connection is lost, it is
// logged off, or the client named it as the previous session of a new one
// (MS-SMB2 3.3.7.1, 3.3.5.6, 3.3.5.5.3): durable opens are kept for a
// reconnect (open_durable.go); the others and the tree connects are closed.
func (s *Session) disconnect() { s.end(true) }

func (s *Session) end(keepDurable bool) {
	s.mu.Lock()
	trees := s.trees
	s.trees = nil
	s.state = sessionExpired
	s.mu.Unlock()
	// Requests of an expired session find no open from here on.
	for _, o := range s.srv.state.TakeSessionOpens(s) {
		if keepDurable && s.srv.keepDurable(o) {
			continue
		}
		o.close()
	}
	for _, t := range trees {
		t.disconnect()
	}
}

// expired reports whether the session's authentication has lapsed.
func (s *Session) expired(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.expires.IsZero() && now.After(s.expires)
}

// allowedWhenExpired reports whether req may run on a session whose
// authentication lapsed: what releases resources (CLOSE, unlocks, LOGOFF)
// and what needs no authority (ECHO, CANCEL), as Windows allows.
func allowedWhenExpired(req *Request) bool {
	switch req.Header.Command {
	case smb2.Close, smb2.Logoff, smb2.Echo, smb2.Cancel:
		return true
	case smb2.Lock:
		var r smb2.LockRequest
		if r.Decode(req.Msg) != nil {
			return false
		}
		for _, l := range r.Locks {
			if l.Flags&smb2.LockFlagUnlock == 0 {
				return false
			}
		}
		return true
	}
	return false
}
