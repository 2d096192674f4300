package smb_test

import (
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// A server with one in-memory share and one user, on any listener.
func ExampleServer() {
	srv := &smb.Server{
		Shares: []smb.Share{{Name: "data", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "secret"}))),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	srv.Close()
	// Output:
}

// The package example: a server sharing an OS directory. vfs.Dir confines
// every name to the directory (os.Root).
func Example_directory() {
	dir, err := os.MkdirTemp("", "cifsd-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	data, err := vfs.Dir(dir)
	if err != nil {
		panic(err)
	}
	srv := &smb.Server{
		Shares: []smb.Share{{Name: "data", FS: data}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "secret"}))),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	srv.Close()
	fmt.Println(<-done)
	// Output: smb: server closed
}

// Limits that fit a small machine, and a hook that counts what they refuse
// (a metrics package would export the counts by reason).
func ExampleServer_limits() {
	var mu sync.Mutex
	refused := make(map[smb.RefusalReason]int)
	srv := &smb.Server{
		Shares: []smb.Share{{Name: "data", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "secret"}))),
		Limits: smb.Limits{
			MaxConnections:      200,
			MaxConnectionsPerIP: 20,
			MaxOpensPerSession:  1000,
			HandshakeTimeout:    30 * time.Second,
		},
		OnRefusal: func(reason smb.RefusalReason, remote string) {
			mu.Lock()
			refused[reason]++
			mu.Unlock()
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	srv.Close()
	fmt.Println(len(refused))
	// Output: 0
}
