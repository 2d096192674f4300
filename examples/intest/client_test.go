// Package intest shows how a Go test starts a real SMB server in-process
// and points an SMB client library at it.
package intest

import (
	"net"
	"testing"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/smb/smbtest"
)

func TestClientAgainstInProcessServer(t *testing.T) {
	ts := smbtest.NewServer() // 127.0.0.1:0, in-memory share, one user
	defer ts.Close()

	conn, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}
	s, err := d.Dial(conn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Logoff()
	share, err := s.Mount(ts.Share)
	if err != nil {
		t.Fatal(err)
	}
	defer share.Umount()

	if err := share.WriteFile("hello.txt", []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	// What the client wrote is in the server's file system.
	fi, err := ts.FS.Stat(t.Context(), "hello.txt")
	if err != nil || fi.Size() != 5 {
		t.Fatalf("server sees %v, %v", fi, err)
	}
}
