package rpc_test

import (
	"context"
	"fmt"

	"github.com/cifsd/cifsd/rpc"
)

// A Server answers on the named pipes of IPC$; the SMB server hands it the
// bytes clients write to a pipe and returns what they read. Package smb
// does this for every pipe opened on IPC$, with its own shares, accounts
// and live state.
func ExampleServer_Open() {
	s := &rpc.Server{
		ServerName: "FILES",
		Shares: func(context.Context) []rpc.ShareInfo {
			return []rpc.ShareInfo{{Name: "data", Comment: "team files"}}
		},
	}
	ctx := context.Background()
	p, err := s.Open(ctx, `\PIPE\srvsvc`, &rpc.Caller{User: "alice"})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	_, err = s.Open(ctx, "spoolss", nil)
	fmt.Println(err)
	// Output: rpc: no such pipe: "spoolss"
}
