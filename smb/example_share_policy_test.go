package smb_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// Share options as smb.conf has them: a share readable by everyone and
// writable by the staff group, with temporary files vetoed, and a share
// left out of listings.
func ExampleShare_options() {
	staff := map[string]bool{"alice": true}
	srv := &smb.Server{
		Shares: []smb.Share{
			{
				Name:      "public",
				FS:        vfs.NewMem(),
				ReadOnly:  true,               // read only = yes
				WriteList: []string{"@staff"}, // write list = @staff
				InGroup:   func(user, group string) bool { return group == "staff" && staff[user] },
				VetoFiles: []string{"*.tmp"}, // veto files = /*.tmp/
			},
			{Name: "backup", FS: vfs.NewMem(), Hidden: true}, // browseable = no
		},
		Signing: smb.SigningEnabled,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:    auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "a", "bob": "b"}))),
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(l)
	defer srv.Close()

	for _, user := range []string{"alice", "bob"} {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			panic(err)
		}
		d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: user, Password: user[:1]}}
		s, err := d.Dial(c)
		if err != nil {
			panic(err)
		}
		names, _ := s.ListSharenames()
		sh, err := s.Mount("public")
		if err != nil {
			panic(err)
		}
		werr := sh.WriteFile("notes.txt", []byte("hi"), 0o644)
		terr := sh.WriteFile("scratch.tmp", []byte("hi"), 0o644)
		fmt.Printf("%s: shares %v, may write: %v, may create a .tmp: %v\n", user, names, werr == nil, terr == nil)
		sh.Umount()
		s.Logoff()
	}
	// Output:
	// alice: shares [public IPC$], may write: true, may create a .tmp: false
	// bob: shares [public IPC$], may write: false, may create a .tmp: false
}
