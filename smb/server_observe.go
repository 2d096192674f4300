package smb

import (
	"cmp"
	"context"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/cifsd/cifsd/smb2"
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
		valid := sess.state == sessionValid
		if valid {
			st.Sessions++
			st.TreeConnects += len(sess.trees)
		}
		sess.mu.Unlock()
		if valid {
			so := s.state.SessionOpens(sess)
			st.Opens += len(so)
			opens = append(opens, so...)
		}
	}
	for _, o := range opens {
		if o.share == nil {
			continue
		}
		o.share.mu.Lock() // caching state is under its share's lock
		if o.lease == nil && o.share.store.OplockLocked(o) != 0 {
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
	sh := s.lookupShare(ctx, nil, share) // share_source.go
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
	n := sh.store.FileLocked(sh, key)
	if n == nil {
		return 0
	}
	var b breaks
	count := 0
	for _, x := range sh.store.OpensLocked(n) {
		if sh.store.CachingLocked(x)&^to != 0 {
			b.lower(x, to, false)
			count++
		}
	}
	runBreaks(ctx, sh, &b, nil)
	return count
}

// SessionInfo describes one authenticated session, as Server.Sessions
// saw it: who, from where, how protected, and what it holds (the rows of
// Samba's smbstatus).
type SessionInfo struct {
	// ID is the SessionId on the wire.
	ID uint64
	// User and Domain are the authenticated identity; Guest and Anonymous
	// tell a guest or null session.
	User, Domain     string
	Guest, Anonymous bool
	// Client is the address ("host:port") of the session's first
	// connection; Channels counts its connections (more than one with
	// multichannel).
	Client   string
	Channels int
	// Dialect is the SMB dialect negotiated (smb2.Dialect202 ...).
	Dialect uint16
	// Signed tells that every message of the session must be signed
	// (MS-SMB2 3.3.5.5.3 Session.SigningRequired); SigningAlgorithm is the
	// algorithm (smb2.SigningHMACSHA256, SigningAESCMAC, SigningAESGMAC).
	Signed           bool
	SigningAlgorithm uint16
	// EncryptionRequired tells that the server requires every message of
	// the session to be encrypted (Session.EncryptData); a tree connect
	// may require it on its own (TreeInfo.Encrypted). Encrypted tells
	// that the session's messages are encrypted: required, or the client
	// has sent encrypted requests (as it may when the server only
	// desires it). Cipher is the cipher the connection encrypts with
	// (smb2.CipherAES128CCM ...; 0 below SMB 3.0).
	EncryptionRequired, Encrypted bool
	Cipher                        uint16
	// Trees are the session's tree connects, by ID.
	Trees []TreeInfo
	// Opens are the session's open files and directories (not pipes), by
	// volatile file id.
	Opens []SessionOpen
}

// TreeInfo is one tree connect of a session.
type TreeInfo struct {
	// ID is the TreeId on the wire.
	ID uint32
	// Share is the share's name, IPC$ included.
	Share string
	// ReadOnly and Encrypted are the tree connect's own settings: read-only
	// for this user, messages required encrypted (by the share or the
	// session).
	ReadOnly, Encrypted bool
}

// SessionOpen is one open file or directory of a session: what
// Request.Open tells of it (path, access granted, caching, durability),
// where it was opened, and the sharing it allows others.
type SessionOpen struct {
	OpenInfo
	// TreeID and Share name the tree connect it was opened through.
	TreeID uint32
	Share  string
	// ShareAccess is the FILE_SHARE_READ, _WRITE and _DELETE bits the
	// open lets other opens of the file have (MS-SMB2 2.2.13).
	ShareAccess uint32
}

// Sessions returns a snapshot of the authenticated sessions, in order of
// session ID, with their tree connects and open files (pipes left out), as
// Samba's smbstatus lists them. It copies each table under its own lock and
// takes no lock across anything slow (no backend call, no network write),
// so sessions and opens may come and go while it runs: what it returns was
// true of each session at some moment during the call.
func (s *Server) Sessions() []SessionInfo {
	s.init()
	out := []SessionInfo{}
	for _, sess := range s.liveSessions() { // admin_rpc.go
		id := sess.Identity()
		info := SessionInfo{ID: sess.ID, User: id.User, Domain: id.Domain, Guest: id.Guest, Anonymous: id.Anonymous}
		sess.ch.mu.RLock()
		info.Channels = len(sess.ch.m)
		c := sess.ch.primary
		sess.ch.mu.RUnlock()
		if c != nil {
			info.Client = c.remoteAddr
			info.Dialect = c.dialect()
			info.SigningAlgorithm = c.signingAlgorithm() // session_bind.go
			switch {
			case info.Dialect >= smb2.Dialect311:
				info.Cipher = c.neg.cipher // set once by NEGOTIATE
			case info.Dialect >= smb2.Dialect300:
				info.Cipher = smb2.CipherAES128CCM
			}
		}
		sess.mu.Lock()
		info.Signed, info.EncryptionRequired = sess.signingRequired, sess.encryptData
		info.Encrypted = sess.encryptData || sess.clientEncrypts.Load()
		for _, t := range sess.trees {
			info.Trees = append(info.Trees, TreeInfo{ID: t.ID, Share: t.share.cfg.Name, ReadOnly: t.readOnly,
				Encrypted: t.encrypt || sess.encryptData})
		}
		sess.mu.Unlock()
		for _, o := range s.state.SessionOpens(sess) {
			if o.pipe != nil || o.node == nil || o.closed() {
				continue
			}
			so := SessionOpen{OpenInfo: o.info(), Share: o.share.cfg.Name} // request.go
			o.mu.Lock()
			so.ShareAccess = o.shareAccess
			o.mu.Unlock()
			if o.tree != nil {
				so.TreeID = o.tree.ID
			}
			info.Opens = append(info.Opens, so)
		}
		slices.SortFunc(info.Trees, func(a, b TreeInfo) int { return cmp.Compare(a.ID, b.ID) })
		slices.SortFunc(info.Opens, func(a, b SessionOpen) int { return cmp.Compare(a.FileID.Volatile, b.FileID.Volatile) })
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
