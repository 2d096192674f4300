// Package smb is the cifsd SMB2/3 server: the Server, its shares, the
// handler chain, connections, sessions, tree connects and opens.
//
// A Server serves on any net.Listener (Serve) or any single net.Conn
// (ServeConn):
//
//	data, err := vfs.Dir("/srv/data")
//	if err != nil {
//		log.Fatal(err)
//	}
//	srv := &smb.Server{
//		Shares: []smb.Share{{Name: "data", FS: data}},
//		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "secret"}))),
//	}
//	log.Fatal(srv.ListenAndServe(":445"))
//
// Example_directory is the same as a runnable example.
package smb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/rpc"
	"github.com/cifsd/cifsd/vfs"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close.
var ErrServerClosed = errors.New("smb: server closed")

// Server is an SMB2/3 file server. Its zero value serves nothing and admits
// nobody; set Shares and Auth. Fields must not change after Serve is called.
type Server struct {
	// Shares are the disk shares served. IPC$ is always served in addition.
	Shares []Share
	// ShareSource, when set, finds the disk shares instead of Shares: per
	// user or dynamic shares, or shares reloaded while the server runs
	// (ShareSet).
	ShareSource ShareSource
	// Auth authenticates SESSION_SETUP exchanges. Use auth.Negotiate to offer
	// several mechanisms through SPNEGO. Nil admits nobody (unless
	// AllowAnonymous).
	Auth auth.Mechanism
	// Accounts are the local users and groups lsarpc and samr name, and
	// the administrators srvsvc lets manage sessions and files
	// (admin_accounts.go).
	Accounts Accounts
	// ServerName is the NetBIOS name reported to clients; default "CIFSD".
	ServerName string
	// Comment is the server comment shown in share listings.
	Comment string
	// Signing is the signing policy; the zero value requires signing.
	Signing SigningPolicy
	// Encryption is the encryption policy for every share; the zero value
	// encrypts when the client asks to. Share.Encrypt requires it per share.
	Encryption EncryptionPolicy
	// Ciphers are the SMB 3.1.1 ciphers offered, preferred first (the
	// smb2.Cipher* values); nil is AES-128-GCM, AES-128-CCM, AES-256-GCM,
	// AES-256-CCM, GCM first as Windows orders them.
	Ciphers []uint16
	// KeyLog, when set, receives each session's keys as lines Wireshark's
	// SMB2 "Secret session keys" table reads, so an operator can decrypt a
	// capture of their own server. Keep it off in production.
	KeyLog io.Writer
	// MinDialect and MaxDialect bound the dialects negotiated (0: 2.0.2 to
	// 3.1.1).
	MinDialect, MaxDialect uint16
	// DisableMultiChannel stops SMB 3.x clients from binding more
	// connections to a session (the MULTI_CHANNEL capability, MS-SMB2
	// 3.3.5.5). Multichannel is on by default, as on Windows and Samba.
	DisableMultiChannel bool
	// DisableDirectoryLeasing stops granting leases on directories (the
	// DIRECTORY_LEASING capability of SMB 3.x, MS-SMB2 3.3.5.4). With
	// directory leases clients cache listings until a change made through
	// the server breaks the lease (lease_dir.go); a share whose files also
	// change behind the server's back is better served without them.
	DisableDirectoryLeasing bool
	// DisableLeasing grants no leases, on files or directories: the
	// LEASING capability is not offered (MS-SMB2 3.3.5.4) and a CREATE's
	// lease context is ignored, so the open gets no caching (Samba's
	// "smb2 leases = no"); oplocks are still granted.
	DisableLeasing bool
	// DisableDurableHandles grants no durable handles: a CREATE asking for
	// one (DHnQ, DH2Q) gets an ordinary open, which a lost connection
	// closes (Samba's "durable handles = no").
	DisableDurableHandles bool
	// DisableDFS turns DFS off ("host msdfs = no"): no DFS capability
	// in NEGOTIATE, no share is a DFS root, and referral requests answer
	// STATUS_FS_DRIVER_REQUIRED. DFS is on by default, as on Windows and
	// Samba, and without a Share.DFSRoot it changes nothing but the
	// capability.
	DisableDFS bool
	// AllowAnonymous admits null sessions (needed by some clients to list
	// shares). Off by default.
	AllowAnonymous bool
	// Layers are inserted into the handler chain, outermost first, between
	// the session and tree layers and the file operations (see Layer).
	Layers []Layer
	// Logger receives the server's logs; nil uses slog.Default().
	Logger *slog.Logger
	// IdleTimeout closes a connection without open files that sent nothing
	// for this long (0: 15 minutes; negative: never). A connection whose
	// sessions hold opens is kept (conn_limits.go).
	IdleTimeout time.Duration
	// BaseContext, when set, gives the base context of the connections
	// accepted on a listener (as net/http's Server.BaseContext); its
	// values reach every request's context. Nil: context.Background().
	BaseContext func(net.Listener) context.Context
	// ConnContext, when set, derives a connection's context from the base
	// one (as net/http's Server.ConnContext).
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// ConnState, when set, is called as a connection changes state (see
	// ConnState). It runs on the connection's goroutine: keep it short.
	ConnState func(net.Conn, ConnState)
	// Limits bound connections, sessions, opens and requests in flight
	// (conn_limits.go); the zero value takes DefaultLimits.
	Limits Limits
	// LogonThrottle slows password guessing: the failed logons of a client
	// address are answered later and later (session_throttle.go). The zero
	// value takes DefaultLogonThrottle.
	LogonThrottle LogonThrottle
	// OnRefusal, when set, is called once for each connection or request a
	// limit refuses, with the reason and the client's address (a metrics
	// package counts refusals by reason with it). It must not block.
	OnRefusal func(reason RefusalReason, remote string)

	initOnce sync.Once
	guid     [16]byte
	start    time.Time
	handler  Handler
	static   *ShareSet   // Shares, when ShareSource is nil
	states   shareStates // per share: open files, reservations, watchers
	ipc      *shareState
	sessions sessionTable
	keyLogMu sync.Mutex
	rpcOnce  sync.Once
	rpc      *rpc.Server
	nextID   atomic.Uint64 // session, tree, and file id source
	routes   leaseConns    // where lease breaks go, per ClientGuid (lease.go)
	state    stateStore    // durable opens, leases, byte-range locks (state.go)
	gate     connGate      // connections by client address (conn_limits.go)
	throttle logonThrottle // failed logons by client address (session_throttle.go)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closed    bool
	connWG    sync.WaitGroup
}

// Share is one disk share.
type Share struct {
	// Name is the share name clients connect to (case-insensitive).
	Name string
	// FS is the file system served.
	FS vfs.FS
	// Comment is shown in share listings.
	Comment string
	// ReadOnly refuses every change.
	ReadOnly bool
	// Guest admits guest and anonymous sessions to the share.
	Guest bool
	// Users, when not empty, are the only users admitted (case-insensitive).
	Users []string
	// Encrypt requires encryption on this share (SMB 3.x).
	Encrypt bool

	// The fields below carry smb.conf's share options (share_policy.go
	// enforces them); their zero values change nothing.

	// InvalidUsers are refused even when listed in Users ("invalid
	// users"). Users, InvalidUsers, ReadList and WriteList take user names
	// (case-insensitive) and "@group" entries, resolved by InGroup.
	InvalidUsers []string
	// ReadList users get a read-only tree connect on a writable share
	// ("read list").
	ReadList []string
	// WriteList users get a writable tree connect even on a ReadOnly share,
	// and even when also in ReadList ("write list").
	WriteList []string
	// InGroup reports whether user belongs to group, for "@group" entries;
	// nil: no user belongs to any group.
	InGroup func(user, group string) bool
	// Hidden leaves the share out of share listings (NetShareEnum); it can
	// still be connected to by name ("browseable = no").
	Hidden bool
	// Unavailable refuses every tree connect with STATUS_BAD_NETWORK_NAME
	// and leaves the share out of listings ("available = no").
	Unavailable bool
	// MaxConnections limits the share's simultaneous tree connects, over
	// all sessions (0: no limit); one more is refused with
	// STATUS_INSUFFICIENT_RESOURCES ("max connections").
	MaxConnections int
	// VetoFiles are name patterns ('*' and '?' wildcards,
	// case-insensitive) matched against each path element: matching names
	// are neither listed nor opened, created or renamed to ("veto files").
	VetoFiles []string
	// HideFiles are name patterns reported with FILE_ATTRIBUTE_HIDDEN
	// ("hide files"). Names that begin with a dot are reported hidden
	// too, unless ShowDotFiles ("hide dot files = no").
	HideFiles    []string
	ShowDotFiles bool
	// CreateMask and DirectoryMask, when not zero, limit the permission
	// bits of new files and directories; ForceCreateMode and
	// ForceDirectoryMode are then added ("create mask", "directory mask",
	// "force create mode", "force directory mode"). The backend's own
	// rules (for Dir, the process umask) apply after them.
	CreateMask, DirectoryMask           fs.FileMode
	ForceCreateMode, ForceDirectoryMode fs.FileMode
	// NoOplocks grants no oplocks and no leases on the share ("oplocks =
	// no"): every client reads and writes through to the server.
	NoOplocks bool
	// NoDOSAttributes keeps FILE_ATTRIBUTE_* bits, creation and change
	// times a client sets out of the backend's store (vfs.AttrStore): only
	// what the permission bits say is kept ("store dos attributes = no").
	NoDOSAttributes bool

	// DFSRoot makes the share a standalone DFS namespace root (MS-DFSC;
	// "msdfs root = yes"): some of its folders are links to shares here
	// or on other servers, which clients follow by themselves (dfs.go).
	// Its tree connects carry SMB2_SHAREFLAG_DFS and DFS_ROOT; a path
	// through a link answers STATUS_PATH_NOT_COVERED; referral requests
	// for it name the links' targets.
	DFSRoot bool
	// DFSLinks finds the links of a DFSRoot share. Nil reads them from
	// the backend as Samba stores them: symbolic links (vfs.Readlinker,
	// as vfs.Dir) named as the folder, whose target is
	// "msdfs:HOST\SHARE[,HOST\SHARE...]" (e.g. ln -s 'msdfs:srv2\docs'
	// docs).
	DFSLinks DFSLinks
}

// EncryptionPolicy says when SMB 3.x encryption is used.
type EncryptionPolicy int

const (
	// EncryptionDesired offers encryption; a client that asks for it (or a
	// share with Encrypt) gets it. The zero value.
	EncryptionDesired EncryptionPolicy = iota
	// EncryptionRequired encrypts every session; clients that cannot
	// encrypt (SMB 2.x, guests) are refused with STATUS_ACCESS_DENIED, and
	// unencrypted requests are never executed.
	EncryptionRequired
	// EncryptionOff neither offers nor accepts encryption.
	EncryptionOff
)

// ConnState is a state of a client connection, reported to
// Server.ConnState.
type ConnState int

const (
	// StateNew: the connection was accepted; nothing was read yet.
	StateNew ConnState = iota
	// StateAuthenticated: a session was established on the connection
	// (its first).
	StateAuthenticated
	// StateClosed: the connection is closed and its state released.
	StateClosed
)

var connStateNames = [...]string{StateNew: "new", StateAuthenticated: "authenticated", StateClosed: "closed"}

// String returns the state's name.
func (c ConnState) String() string {
	if int(c) < len(connStateNames) {
		return connStateNames[c]
	}
	return "ConnState(" + strconv.Itoa(int(c)) + ")"
}

// setState reports a connection's new state to Server.ConnState.
func (s *Server) setState(c net.Conn, st ConnState) {
	if s.ConnState != nil {
		s.ConnState(c, st)
	}
}

// SigningPolicy says when messages are signed.
type SigningPolicy int

const (
	// SigningRequired: every request of an authenticated, non-guest session
	// must be signed; unsigned ones are refused. The zero value.
	SigningRequired SigningPolicy = iota
	// SigningEnabled: messages are signed when the client requires it.
	SigningEnabled
)

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.start = time.Now()
		randRead(s.guid[:])
		static := make([]*Share, len(s.Shares))
		for i := range s.Shares {
			static[i] = &s.Shares[i]
		}
		s.static = NewShareSet(static...)
		s.ipc = newShareState(&Share{Name: "IPC$", Comment: "IPC Service", Guest: true})
		s.sessions.init()
		s.state = &memState{}
		s.conns = make(map[*conn]struct{})
		s.listeners = make(map[net.Listener]struct{})
		s.handler = s.buildChain()
	})
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) serverName() string {
	if s.ServerName != "" {
		return s.ServerName
	}
	return "CIFSD"
}

// ListenAndServe listens on the TCP address addr (":445" when empty) and
// serves on it.
func (s *Server) ListenAndServe(addr string) error {
	if addr == "" {
		addr = ":445"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("smb: listen: %w", err)
	}
	return s.Serve(l)
}

// Serve accepts connections on l and serves each on its own goroutines. It
// returns ErrServerClosed after Shutdown or Close, or the listener's error.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	base := context.Background()
	if s.BaseContext != nil {
		if base = s.BaseContext(l); base == nil {
			panic("smb: BaseContext returned a nil context")
		}
	}
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("smb: accept: %w", err)
		}
		delay = 0
		s.startConn(base, c)
	}
}

// ServeConn serves one connection and returns when it closes.
func (s *Server) ServeConn(c net.Conn) error {
	s.init()
	cc := s.startConn(context.Background(), c)
	if cc == nil {
		return ErrServerClosed
	}
	<-cc.done
	return nil
}

func (s *Server) startConn(base context.Context, c net.Conn) *conn {
	if s.ConnContext != nil {
		if base = s.ConnContext(base, c); base == nil {
			panic("smb: ConnContext returned a nil context")
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		s.refused(RefusedShutdown, c.RemoteAddr().String())
		return nil
	}
	s.mu.Unlock()
	leave, ok := s.admitConn(c) // conn_limits.go
	if !ok {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		leave()
		c.Close()
		return nil
	}
	cc := newConn(base, s, c)
	s.conns[cc] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	stopTimer := s.startHandshakeTimer(cc)
	go cc.serve(func() {
		s.mu.Lock()
		delete(s.conns, cc)
		s.mu.Unlock()
		stopTimer()
		leave()
		s.connWG.Done()
	})
	return cc
}

// Shutdown stops accepting connections, lets requests in progress finish,
// closes every connection and waits until they are gone or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// Close closes every listener and connection at once.
func (s *Server) Close() error {
	s.init()
	s.mu.Lock()
	s.closed = true
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	return nil
}

// buildChain assembles the handler chain: session, then tree, then the
// application's layers, then the command dispatcher.
func (s *Server) buildChain() Handler {
	var h Handler = HandlerFunc(s.dispatch)
	for i := len(s.Layers) - 1; i >= 0; i-- {
		h = s.Layers[i](h)
	}
	h = s.treeLayer(h)
	h = s.sessionLayer(h)
	return h
}
