package smb

import (
	"net"
	"testing"

	"github.com/cifsd/cifsd/vfs"
)

// An async completion that arrives after its connection ended is dropped;
// it must not bring the server down (it once sent on the closed channel).
func TestSendAfterConnectionEnd(t *testing.T) {
	srv := &Server{Shares: []Share{{Name: "s", FS: vfs.NewMem()}}}
	srv.init()
	client, server := net.Pipe()
	c := newConn(srv, server)
	go c.serve()
	client.Close()
	<-c.done
	released := false
	c.send(net.Buffers{[]byte("late")}, func() { released = true })
	if !released {
		t.Fatal("buffer of a dropped frame not released")
	}
}
