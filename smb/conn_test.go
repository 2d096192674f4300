package smb

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// An async completion that arrives after its connection ended is dropped;
// it must not bring the server down (it once sent on the closed channel).
func TestSendAfterConnectionEnd(t *testing.T) {
	srv := &Server{Shares: []Share{{Name: "s", FS: vfs.NewMem()}}}
	srv.init()
	client, server := net.Pipe()
	c := newConn(context.Background(), srv, server)
	go c.serve(nil)
	client.Close()
	<-c.done
	for _, inline := range []bool{false, true} {
		released := false
		c.send(net.Buffers{[]byte("late")}, func() { released = true }, inline)
		if !released {
			t.Fatalf("inline %v: buffer of a dropped frame not released", inline)
		}
	}
}

// Before a session exists, a large frame ends the connection instead of
// being buffered.
func TestPreAuthFrameLimit(t *testing.T) {
	srv := &Server{Shares: []Share{{Name: "s", FS: vfs.NewMem()}}}
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() { srv.ServeConn(server); close(done) }()
	hdr := []byte{0, byte(preAuthFrameSize >> 16), 0, 1} // preAuthFrameSize+1 bytes
	client.Write(hdr)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed on an oversized pre-auth frame")
	}
	client.Close()
}
