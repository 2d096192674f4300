package smb_test

import (
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// A DFS namespace: \\files\corp is a root whose folder "eng" is on
// another server and "hr" on a share of this one, so clients reach both
// through one name (they follow the referrals by themselves).
func ExampleShare_dfs() {
	srv := &smb.Server{
		ServerName: "FILES",
		Shares: []smb.Share{
			{
				Name:    "corp",
				FS:      vfs.NewMem(),
				DFSRoot: true, // msdfs root = yes
				DFSLinks: smb.DFSLinkMap{
					"eng": {Targets: []string{`\\build1\eng`, `\\build2\eng`}}, // two replicas
					"hr":  {Targets: []string{`\\files\hr`}, TTL: 10 * time.Minute},
				},
			},
			{Name: "hr", FS: vfs.NewMem()},
		},
		Auth: auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"alice": "secret"}))),
	}
	// On a vfs.Dir backend, leave DFSLinks nil and make each link a
	// symbolic link as Samba does: ln -s 'msdfs:build1\eng,build2\eng' eng
	_ = srv // srv.ListenAndServe(":445") serves the namespace
}
