// Command cifsd is a small SMB2/3 file server.
//
// Usage:
//
//	cifsd [-config FILE] [-listen ADDR] [-share NAME=DIR]... [-user NAME:PASSWORD]...
//	cifsd config check FILE
//	cifsd user add|delete|passwd|list [-config FILE] [-db FILE] [-stdin] [NAME]
//	cifsd -version
//
// -config reads an smb.conf-style file (Samba's and ksmbd's syntax; see
// examples/cifsd.conf): its [global] options set the server, its sections
// are shares, and its users come from the database named by "smb passwd
// file" (ksmbdpwd.db format, maintained by `cifsd user`). Flags given on
// the command line override the file.
//
// With neither -config nor -share it serves an in-memory share named
// "share", seeded with a README. Users are given with -user; with none,
// only guest access is possible, and only when -guest is set.
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "user":
		err = runUser(os.Args[2:], os.Stdin, os.Stdout, os.Stderr)
	case len(os.Args) > 1 && os.Args[1] == "config":
		err = runConfig(os.Args[2:], os.Stdout, os.Stderr)
	default:
		err = run(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cifsd:", err)
		os.Exit(1)
	}
}
