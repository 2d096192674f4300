package smb

import (
	"net"
	"sync"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// Limits bounds what clients can hold of a server, so one client (or many
// broken ones) cannot take all of a small machine's memory, goroutines or
// file descriptors. A zero field takes its default (DefaultLimits); a
// negative one means no limit.
type Limits struct {
	// MaxConnections bounds the connections served at once. Past it a new
	// connection is closed as soon as it is accepted.
	MaxConnections int
	// MaxConnectionsPerIP bounds the connections of one client address
	// (ksmbd's "max ip connections"); past it the connection is closed.
	MaxConnectionsPerIP int
	// MaxSessionsPerConnection bounds the sessions set up on one
	// connection; past it SESSION_SETUP fails with
	// STATUS_INSUFFICIENT_RESOURCES (MS-SMB2 3.3.5.5.1 names no status for a
	// session that cannot be allocated; this is the one for an exhausted
	// server resource, MS-ERREF 2.3.1).
	MaxSessionsPerConnection int
	// MaxOpensPerSession bounds the open files of one session (Windows'
	// sv1501_sessopens, MS-SRVS SERVER_INFO_1501); past it CREATE fails
	// with STATUS_INSUFFICIENT_RESOURCES and creates nothing.
	MaxOpensPerSession int
	// MaxAsyncPerConnection bounds the operations of one connection
	// waiting asynchronously (CHANGE_NOTIFY, blocking LOCK, a CREATE
	// waiting for a lease break); past it the request fails with
	// STATUS_INSUFFICIENT_RESOURCES.
	MaxAsyncPerConnection int
	// MaxInFlightBytes bounds the bytes of the requests one connection has
	// being served; past it the connection reads its next frame only when
	// earlier ones are done (one frame always proceeds).
	MaxInFlightBytes int
	// HandshakeTimeout bounds the time from accept to the first
	// authenticated session; a client that sends nothing, or trickles
	// bytes, is dropped when it runs out.
	HandshakeTimeout time.Duration
	// FrameTimeout bounds a frame once its first byte has arrived, before
	// and after logon: the frame must arrive whole within FrameTimeout,
	// or, when it is large, keep arriving at FrameProgressBytes per
	// FrameTimeout at least (each FrameProgressBytes received gives the
	// rest another FrameTimeout). A client that starts a frame and stalls,
	// or trickles it, is dropped; a large WRITE on a slow but moving link
	// is not. The wait for a frame's first byte is the idle timeout's
	// (Server.IdleTimeout).
	FrameTimeout time.Duration
}

// FrameProgressBytes is the progress a frame must make per
// Limits.FrameTimeout once it has started: 64 KiB, about 1 KiB/s at the
// default timeout.
const FrameProgressBytes = 64 << 10

// DefaultLimits are the limits a zero Limits field takes: enough for an
// office of clients, small enough to protect a small machine.
var DefaultLimits = Limits{
	MaxConnections:           2048,
	MaxConnectionsPerIP:      256,
	MaxSessionsPerConnection: 64,
	MaxOpensPerSession:       16384,
	MaxAsyncPerConnection:    1024,
	MaxInFlightBytes:         maxInFlightBytes,
	HandshakeTimeout:         60 * time.Second,
	FrameTimeout:             60 * time.Second,
}

// RefusalReason names the limit that refused a connection or a request.
type RefusalReason string

// The reasons a Server reports to OnRefusal.
const (
	RefusedConnections      RefusalReason = "connections"             // MaxConnections
	RefusedConnectionsPerIP RefusalReason = "connections_per_ip"      // MaxConnectionsPerIP
	RefusedHandshakeTimeout RefusalReason = "handshake_timeout"       // HandshakeTimeout
	RefusedSessions         RefusalReason = "sessions_per_connection" // MaxSessionsPerConnection
	RefusedOpens            RefusalReason = "opens_per_session"       // MaxOpensPerSession
	RefusedAsync            RefusalReason = "async_per_connection"    // MaxAsyncPerConnection
	RefusedLogonThrottle    RefusalReason = "logon_throttle"          // LogonThrottle
	RefusedIdle             RefusalReason = "idle_timeout"            // Server.IdleTimeout (a connection without opens)
	RefusedFrameTimeout     RefusalReason = "frame_timeout"           // FrameTimeout (a frame started and stalled)
)

// limitValue returns v, its default d when v is zero, or 0 (no limit) when
// v is negative.
func limitValue[T int | time.Duration](v, d T) T {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return d
	}
	return v
}

func (s *Server) maxConnections() int {
	return limitValue(s.Limits.MaxConnections, DefaultLimits.MaxConnections)
}

func (s *Server) maxConnectionsPerIP() int {
	return limitValue(s.Limits.MaxConnectionsPerIP, DefaultLimits.MaxConnectionsPerIP)
}

func (s *Server) handshakeTimeout() time.Duration {
	return limitValue(s.Limits.HandshakeTimeout, DefaultLimits.HandshakeTimeout)
}

func (s *Server) frameTimeout() time.Duration {
	return limitValue(s.Limits.FrameTimeout, DefaultLimits.FrameTimeout)
}

// refused logs one refusal, with the client's address, and reports it.
func (s *Server) refused(reason RefusalReason, remote string) {
	s.logger().Warn("refused by a limit", "reason", string(reason), "remote", remote)
	if s.OnRefusal != nil {
		s.OnRefusal(reason, remote)
	}
}

// connGate counts the connections being served, in all and by client
// address. An address leaves the map with its last connection, so a
// refused or closed connection costs nothing afterwards.
type connGate struct {
	mu    sync.Mutex
	total int
	perIP map[string]int
}

// admitConn counts nc in, or refuses it (closing it) when a connection
// limit is reached. release counts it out again.
func (s *Server) admitConn(nc net.Conn) (release func(), ok bool) {
	remote := nc.RemoteAddr().String()
	ip := clientIP(remote)
	g := &s.gate
	g.mu.Lock()
	var reason RefusalReason
	switch {
	case s.maxConnections() > 0 && g.total >= s.maxConnections():
		reason = RefusedConnections
	case ip != "" && s.maxConnectionsPerIP() > 0 && g.perIP[ip] >= s.maxConnectionsPerIP():
		reason = RefusedConnectionsPerIP
	}
	if reason != "" {
		g.mu.Unlock()
		s.refused(reason, remote) // reported before the client can see the close
		nc.Close()
		return nil, false
	}
	if g.perIP == nil {
		g.perIP = make(map[string]int)
	}
	g.total++
	if ip != "" {
		g.perIP[ip]++
	}
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.total--
			if ip != "" {
				if g.perIP[ip]--; g.perIP[ip] <= 0 {
					delete(g.perIP, ip)
				}
			}
			g.mu.Unlock()
		})
	}, true
}

// clientIP is the IP address of a remote address, or "" when it has none
// (a pipe served through ServeConn).
func clientIP(remote string) string {
	h, _, err := net.SplitHostPort(remote)
	if err != nil || net.ParseIP(h) == nil {
		return ""
	}
	return h
}

// startHandshakeTimer drops c if no session is authenticated on it within
// the handshake timeout. The returned stop frees the timer; the reading
// side frees it too once a session is authenticated
// (stopHandshakeTimer).
func (s *Server) startHandshakeTimer(c *conn) (stop func()) {
	d := s.handshakeTimeout()
	if d <= 0 {
		return func() {}
	}
	c.hsTimer = time.AfterFunc(d, func() {
		if c.authenticated.Load() {
			return
		}
		s.refused(RefusedHandshakeTimeout, c.remoteAddr)
		c.close()
	})
	return c.stopHandshakeTimer
}

// stopHandshakeTimer stops and forgets c's handshake timer, so an
// authenticated connection holds none. Called by c's reader, and once
// the connection has ended.
func (c *conn) stopHandshakeTimer() {
	if c.hsTimer != nil {
		c.hsTimer.Stop()
		c.hsTimer = nil
	}
}

// sessionLimitReached reports whether c holds as many sessions as a
// connection may (checked before a new session is set up).
func (s *Server) sessionLimitReached(c *conn) bool {
	max := limitValue(s.Limits.MaxSessionsPerConnection, DefaultLimits.MaxSessionsPerConnection)
	if max <= 0 {
		return false
	}
	n := 0
	for _, sess := range s.allSessions() {
		if sess.boundTo(c) {
			if n++; n >= max {
				s.refused(RefusedSessions, c.remoteAddr)
				return true
			}
		}
	}
	return false
}

// openLimitStatus returns STATUS_INSUFFICIENT_RESOURCES when sess holds
// as many opens as a session may, else StatusSuccess.
func (s *Server) openLimitStatus(c *conn, sess *Session) smb2.Status {
	max := limitValue(s.Limits.MaxOpensPerSession, DefaultLimits.MaxOpensPerSession)
	if max <= 0 || sess == nil {
		return smb2.StatusSuccess
	}
	if s.state.SessionOpenCount(sess) < max {
		return smb2.StatusSuccess
	}
	s.refused(RefusedOpens, c.remoteAddr)
	return smb2.StatusInsufficientResources
}

// asyncLimitResponse refuses a request that would go async when its
// connection already has as many async operations as it may; nil when
// the request may go on.
func (r *Request) asyncLimitResponse() *Response {
	c := r.conn
	max := limitValue(c.srv.Limits.MaxAsyncPerConnection, DefaultLimits.MaxAsyncPerConnection)
	if max <= 0 {
		return nil
	}
	c.inflightMu.Lock()
	n := len(c.asyncOps)
	c.inflightMu.Unlock()
	if n < max {
		return nil
	}
	c.srv.refused(RefusedAsync, c.remoteAddr)
	return statusResponse(smb2.StatusInsufficientResources)
}

// inFlightLimit is the bytes of requests a connection may have served
// at once.
func (s *Server) inFlightLimit() int {
	return limitValue(s.Limits.MaxInFlightBytes, DefaultLimits.MaxInFlightBytes)
}

// connHasOpens reports whether a session bound to c holds an open.
func (s *Server) connHasOpens(c *conn) bool {
	for _, sess := range s.allSessions() {
		if !sess.boundTo(c) {
			continue
		}
		if s.state.SessionOpenCount(sess) > 0 {
			return true
		}
	}
	return false
}

// allSessions is a snapshot of the server's sessions, taken so that no
// session or channel lock is taken under the table's.
func (s *Server) allSessions() []*Session {
	s.sessions.mu.RLock()
	defer s.sessions.mu.RUnlock()
	all := make([]*Session, 0, len(s.sessions.m))
	for _, sess := range s.sessions.m {
		all = append(all, sess)
	}
	return all
}
