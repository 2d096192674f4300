// Package smbtest runs a real cifsd SMB server on loopback for tests of SMB
// clients, in the manner of net/http/httptest.
//
//	ts := smbtest.NewServer()
//	defer ts.Close()
//	// connect an SMB client to ts.Addr as ts.User / ts.Password, share ts.Share
//
// A client's tests inject faults into the running server (faults.go): one
// request failing with a chosen NT status (FailNext, FailAfter), requests
// delayed or the connection dropped after n requests (DelayAfter,
// DropAfter), leases and oplocks broken on demand (BreakLeases, with
// GrantOplocks for clients that ask for none), and sessions whose
// authentication lapses (ExpireSessions).
package smbtest

import (
	"fmt"
	"net"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// Defaults of a test server.
const (
	DefaultShare    = "share"
	DefaultUser     = "tester"
	DefaultPassword = "testpass"
)

// Server is an SMB server listening on a loopback port.
type Server struct {
	// Addr is the "127.0.0.1:port" the server listens on.
	Addr string
	// Share, User and Password are what a client connects with.
	Share, User, Password string
	// FS is the in-memory file system behind Share; a test can inspect
	// or prepare files through it.
	FS vfs.FS
	// Config is the server; change it before Start on an unstarted server
	// (add shares, layers, a logger ...). Start puts the layer of the
	// fault helpers (FailNext, DelayAfter, DropAfter ...) first in
	// Config.Layers.
	Config *smb.Server

	l      net.Listener
	faults faults
}

// NewUnstartedServer returns a server configured with one in-memory share
// and one user, not yet listening.
func NewUnstartedServer() *Server {
	fsys := vfs.NewMem()
	ts := &Server{Share: DefaultShare, User: DefaultUser, Password: DefaultPassword, FS: fsys}
	mech := ntlm.Users(ntlm.Passwords(map[string]string{ts.User: ts.Password}))
	ts.Config = &smb.Server{
		Shares: []smb.Share{{Name: ts.Share, FS: fsys}},
		Auth:   auth.Negotiate(mech),
	}
	return ts
}

// NewServer starts and returns a server on 127.0.0.1 with one in-memory
// share and one user. Close it when done.
func NewServer() *Server {
	ts := NewUnstartedServer()
	ts.Start()
	return ts
}

// Start starts an unstarted server.
func (ts *Server) Start() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("smbtest: listen: %v", err))
	}
	ts.l = trackingListener{Listener: l, f: &ts.faults}
	ts.Addr = l.Addr().String()
	ts.Config.Layers = append([]smb.Layer{ts.faults.layer}, ts.Config.Layers...)
	go ts.Config.Serve(ts.l)
}

// Close shuts the server down and closes every connection.
func (ts *Server) Close() {
	ts.Config.Close()
}
