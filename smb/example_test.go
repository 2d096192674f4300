package smb_test

import (
	"net"

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
