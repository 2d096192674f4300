package soak

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// Server is a cifsd server run in this process for a soak, with its
// defaults (signing required) and one share.
type Server struct {
	Addr, Share, User, Password string
	srv                         *smb.Server
}

// StartServer serves fsys as share "soak" to user "soak" on a free
// loopback port.
func StartServer(fsys vfs.FS, log *slog.Logger) (*Server, error) {
	s := &Server{Share: "soak", User: "soak", Password: "soak-password"}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.srv = &smb.Server{
		Shares: []smb.Share{{Name: s.Share, FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{s.User: s.Password}))),
		Logger: log,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("soak: listen: %w", err)
	}
	s.Addr = l.Addr().String()
	go s.srv.Serve(l)
	return s, nil
}

// Config is a soak Config for this server, sampled in process.
func (s *Server) Config() Config {
	return Config{Addr: s.Addr, Share: s.Share, User: s.User, Password: s.Password, Sampler: InProcess{}}
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// InProcess samples this process: goroutines and the Go heap in use after
// a collection. When the clients run in the same process their goroutines
// are counted too; before and after the run there are none.
type InProcess struct{}

// Sample implements Sampler.
func (InProcess) Sample() (Sample, error) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return Sample{Goroutines: runtime.NumGoroutine(), HeapBytes: int64(m.HeapInuse)}, nil
}

// Proc samples another process through /proc/PID/status: its resident
// set. Goroutines are not visible from outside and read as -1.
type Proc struct{ PID int }

// Sample implements Sampler.
func (p Proc) Sample() (Sample, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/status")
	if err != nil {
		return Sample{}, fmt.Errorf("soak: %w", err)
	}
	s := Sample{Goroutines: -1, HeapBytes: -1}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return Sample{}, fmt.Errorf("soak: VmRSS %q: %w", v, err)
			}
			s.HeapBytes = kb << 10
		}
	}
	return s, nil
}
