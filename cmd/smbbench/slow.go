package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/latencyfs"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// slowServer is an in-process cifsd serving one in-memory share whose
// every backend call takes delay longer.
type slowServer struct {
	srv   *smb.Server
	addr  string
	calls latencyfs.Counter
}

func startSlowServer(share, user, pass string, delay time.Duration) (*slowServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fsys := latencyfs.New(vfs.NewMem(), delay)
	srv := &smb.Server{
		Shares: []smb.Share{{Name: share, FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{user: pass}))),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	go srv.Serve(l)
	fmt.Fprintf(os.Stderr, "smbbench: in-process cifsd on %s, in-memory share %q, %v per backend call\n", l.Addr(), share, delay)
	return &slowServer{srv: srv, addr: l.Addr().String(), calls: fsys.(latencyfs.Counter)}, nil
}

func (s *slowServer) Close() error { return s.srv.Close() }
