package smb

import (
	"sync"

	"github.com/cifsd/cifsd/internal/smbcrypto"
)

// channels are the connections a session is bound to (MS-SMB2 3.3.1.14
// Session.ChannelList), each with its own signing key. The connection the
// session was established on is the first and signs with
// Session.SigningKey; others join by binding (SMB2_SESSION_FLAG_BINDING,
// session_bind.go) and leave when their connection ends. The session ends with its
// last channel (3.3.7.1).
type channels struct {
	mu      sync.RWMutex
	primary *conn // where server-initiated messages (breaks) go
	m       map[*conn]*smbcrypto.Signer
}

// boundTo reports whether c is one of the session's channels: a request
// naming the session on any other connection finds no session there
// (MS-SMB2 3.3.5.2.9).
func (s *Session) boundTo(c *conn) bool {
	s.ch.mu.RLock()
	defer s.ch.mu.RUnlock()
	if c == s.ch.primary {
		return true
	}
	_, ok := s.ch.m[c]
	return ok
}

// primary returns the connection that server-initiated messages of the
// session (oplock and lease breaks) are sent on.
func (s *Session) primary() *conn {
	s.ch.mu.RLock()
	defer s.ch.mu.RUnlock()
	return s.ch.primary
}

// signerOn returns the key that signs the session's messages on c: the
// channel's own, or Session.SigningKey for a connection that is not (yet)
// a channel, which is what a binding request and the answers to a refused
// one are signed with (MS-SMB2 3.3.5.2.4, 3.3.4.1.1).
func (s *Session) signerOn(c *conn) *smbcrypto.Signer {
	s.ch.mu.RLock()
	defer s.ch.mu.RUnlock()
	if sg, ok := s.ch.m[c]; ok {
		return sg
	}
	return s.keys.signer
}

// addChannel binds c to the session with its signing key.
func (s *Session) addChannel(c *conn, signer *smbcrypto.Signer) {
	s.ch.mu.Lock()
	defer s.ch.mu.Unlock()
	if s.ch.m == nil {
		s.ch.m = make(map[*conn]*smbcrypto.Signer)
	}
	s.ch.m[c] = signer
	if s.ch.primary == nil {
		s.ch.primary = c
	}
}

// removeChannel unbinds c and reports whether the session has no channel
// left. When c carried the session's breaks, another channel takes over.
func (s *Session) removeChannel(c *conn) (last bool) {
	s.ch.mu.Lock()
	defer s.ch.mu.Unlock()
	delete(s.ch.m, c)
	if s.ch.primary == c {
		s.ch.primary = nil
		for other := range s.ch.m {
			s.ch.primary = other
			break
		}
	}
	return s.ch.primary == nil
}

// hasOtherChannel reports whether the session has a live channel besides c.
func (s *Session) hasOtherChannel(c *conn) bool {
	s.ch.mu.RLock()
	defer s.ch.mu.RUnlock()
	for x := range s.ch.m {
		if x != c && x.ctx.Err() == nil {
			return true
		}
	}
	return false
}

// numChannels counts the session's channels.
func (s *Session) numChannels() int {
	s.ch.mu.RLock()
	defer s.ch.mu.RUnlock()
	return len(s.ch.m)
}

// rememberGone tells every channel of a session that has ended about it,
// so that late requests signed by it get a signed
// STATUS_USER_SESSION_DELETED on whichever connection they come.
func (s *Session) rememberGone() {
	s.ch.mu.RLock()
	conns := make([]*conn, 0, len(s.ch.m))
	for c := range s.ch.m {
		conns = append(conns, c)
	}
	s.ch.mu.RUnlock()
	for _, c := range conns {
		c.rememberLoggedOff(s)
	}
}
