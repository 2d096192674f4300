package smb

import (
	"context"
	"path"
	"strings"
	"time"
)

// What a program embedding the server can see of it and do to it from
// outside the handler chain: a snapshot of its tables for metrics
// (smb/smbmetrics), connection refusals, and the faults a test double
// injects on demand (smb/smbtest).

// RefusedShutdown is the reason given to Server.OnRefusal for a
// connection that arrives while the server shuts down.
const RefusedShutdown RefusalReason = "shutdown"

// Stats is a snapshot of what a server holds at one moment.
type Stats struct {
	// Connections is the number of connections being served.
	Connections int
	// Sessions counts the authenticated sessions (not those still
	// authenticating).
	Sessions int
	// TreeConnects counts the tree connects of those sessions.
	TreeConnects int
	// Opens counts the open files, directories and pipes (durable
	// handles whose connection was lost are not counted).
	Opens int
	// Leases counts the leases granted and not yet released, directory
	// leases included.
	Leases int
	// Oplocks counts the opens that hold an oplock (level II or above).
	Oplocks int
}

// Stats returns a snapshot of the server's tables. It takes each table's
// lock in turn, never two at once, so the counts need not agree with each
// other exactly while clients are busy.
func (s *Server) Stats() Stats {
	s.init()
	var st Stats
	s.mu.Lock()
	st.Connections = len(s.conns)
	s.mu.Unlock()
	var opens []*Open
	for _, sess := range s.sessionList() {
		sess.mu.Lock()
		if sess.state == sessionValid {
			st.Sessions++
			st.TreeConnects += len(sess.trees)
			st.Opens += len(sess.opens)
			for _, o := range sess.opens {
				opens = append(opens, o)
			}
		}
		sess.mu.Unlock()
	}
	for _, o := range opens {
		if o.share == nil {
			continue
		}
		o.share.mu.Lock() // caching state is under its share's lock
		if o.lease == nil && o.oplock != 0 {
			st.Oplocks++
		}
		o.share.mu.Unlock()
	}
	st.Leases = s.state.LeaseCount()
	return st
}

// sessionList copies the session table.
func (s *Server) sessionList() []*Session {
	s.sessions.mu.RLock()
	defer s.sessions.mu.RUnlock()
	list := make([]*Session, 0, len(s.sessions.m))
	for _, sess := range s.sessions.m {
		list = append(list, sess)
	}
	return list
}

// ExpireSessions makes the authentication of the sessions of user
// (case-insensitive; every session when user is "") lapse now, as when a
// Kerberos ticket ends: each later request but re-authentication,
// LOGOFF, CLOSE, unlocks, ECHO and CANCEL gets
// STATUS_NETWORK_SESSION_EXPIRED until the client authenticates again
// (MS-SMB2 3.3.5.2.9). It returns the number of sessions expired. Tests
// of clients use it (smbtest.Server.ExpireSessions).
func (s *Server) ExpireSessions(user string) int {
	s.init()
	past := time.Now().Add(-time.Second)
	n := 0
	for _, sess := range s.sessionList() {
		sess.mu.Lock()
		if sess.state == sessionValid && (user == "" || strings.EqualFold(sess.Identity().User, user)) {
			sess.expires = past
			n++
		}
		sess.mu.Unlock()
	}
	return n
}

// BreakCaching breaks the oplocks and leases held on the file name of
// share (a path in the share, '/' or '\' separated, matched
// case-insensitively) down to to, a set of lease caching bits
// (smb2.LeaseReadCaching, ...; 0 breaks everything), as a conflicting
// open would (MS-SMB2 3.3.4.6, 3.3.4.7): the holders get an
// OPLOCK_BREAK notification. It waits until every break that needs an
// acknowledgement is acknowledged, the opens close, ctx is done, or 35
// seconds pass (when the holder loses its caching), and returns the
// number of opens whose caching was lowered.
func (s *Server) BreakCaching(ctx context.Context, share, name string, to uint32) int {
	s.init()
	sh := s.lookupShare(ctx, nil, share) // shares.go
	if sh == nil || sh.ipc {
		return 0
	}
	name = path.Clean("/" + strings.ReplaceAll(name, `\`, "/"))[1:]
	if name == "" {
		name = "."
	}
	key := foldKey(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := sh.files[key]
	if n == nil {
		return 0
	}
	var b breaks
	count := 0
	for _, x := range n.opens {
		if x.caching()&^to != 0 {
			b.lower(x, to, false)
			count++
		}
	}
	runBreaks(ctx, sh, &b, nil)
	return count
}
