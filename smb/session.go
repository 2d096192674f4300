package smb

import (
	"sync"

	"github.com/cifsd/cifsd/auth"
)

// Session is an authenticated session (MS-SMB2 3.3.1.8).
type Session struct {
	// ID is the SessionId on the wire.
	ID uint64
	// Identity is the authenticated user.
	Identity auth.Identity

	srv  *Server
	conn *conn // the connection the session was established on

	mu      sync.Mutex
	state   sessionState
	authCtx auth.Context // the exchange in progress
	keys    sessionKeys
	trees   map[uint32]*Tree
	opens   map[uint64]*Open // by volatile file id

	signingRequired bool // every request must be signed (3.3.5.5.3)
	encryptData     bool // every request must be encrypted
}

type sessionState int

const (
	sessionInProgress sessionState = iota
	sessionValid
	sessionExpired
)

// isGuest reports whether the session has no keys of its own.
func (s *Session) isGuest() bool { return s.Identity.Guest || s.Identity.Anonymous }

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

// dropConn ends every session established on c.
func (t *sessionTable) dropConn(c *conn) {
	t.mu.Lock()
	var gone []*Session
	for id, s := range t.m {
		if s.conn == c {
			gone = append(gone, s)
			delete(t.m, id)
		}
	}
	t.mu.Unlock()
	for _, s := range gone {
		s.teardown()
	}
}

// teardown closes the session's opens and tree connects.
func (s *Session) teardown() {
	s.mu.Lock()
	opens := s.opens
	s.opens = nil
	trees := s.trees
	s.trees = nil
	s.state = sessionExpired
	s.mu.Unlock()
	for _, o := range opens {
		o.close()
	}
	for _, t := range trees {
		t.disconnect()
	}
}
