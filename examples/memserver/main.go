// Command memserver serves an in-memory share named "mem" on
// 127.0.0.1:4445 to the user "demo" (password "demo"):
//
//	go run ./examples/memserver
//	smbclient //127.0.0.1/mem -p 4445 -U demo%demo
package main

import (
	"log"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

func main() {
	srv := &smb.Server{
		Shares: []smb.Share{{Name: "mem", FS: vfs.NewMem(), Comment: "in-memory"}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"demo": "demo"}))),
	}
	log.Fatal(srv.ListenAndServe("127.0.0.1:4445"))
}
