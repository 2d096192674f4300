package smb_test

import (
	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// A server whose users and groups Windows tools can name (lsarpc, samr:
// Explorer's Security tab, smbcacls, rpcclient), and whose administrator
// may list and close sessions and open files (srvsvc: Computer
// Management's Shared Folders).
func ExampleAccounts() {
	users := map[string]string{"alice": "secret", "bob": "hunter2"}
	srv := &smb.Server{
		Shares: []smb.Share{{Name: "data", FS: vfs.NewMem()}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(users))),
		Accounts: smb.Accounts{
			Users:  []string{"alice", "bob"},
			Groups: []smb.Group{{Name: "staff", Members: []string{"bob"}}},
			Admins: []string{"alice"},
		},
	}
	srv.Close()
	// Output:
}
