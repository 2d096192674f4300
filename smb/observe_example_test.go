package smb_test

import (
	"context"
	"fmt"
	"net"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb/smbtest"
	"github.com/cifsd/cifsd/smb2"
)

// What a server holds while a client has a file open, and after the
// session's authentication lapses.
func ExampleServer_Stats() {
	ts := smbtest.NewServer()
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	s, err := (&gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}).Dial(c)
	if err != nil {
		panic(err)
	}
	share, err := s.Mount(ts.Share)
	if err != nil {
		panic(err)
	}
	f, err := share.Create("a.txt")
	if err != nil {
		panic(err)
	}
	st := ts.Config.Stats()
	fmt.Println("sessions", st.Sessions, "trees", st.TreeConnects, "opens", st.Opens)

	fmt.Println("expired", ts.Config.ExpireSessions(ts.User))
	_, err = f.Write([]byte("x"))
	fmt.Println(err != nil)
	f.Close()
	// Output:
	// sessions 1 trees 1 opens 1
	// expired 1
	// true
}

// A limit enforced outside the server reports its refusals where the
// server's own go.
func ExampleServer_OnRefusal() {
	srv := &smb.Server{}
	srv.OnRefusal = func(reason smb.RefusalReason, remote string) { fmt.Println("refused", remote, reason) }
	srv.Close()
	a, b := net.Pipe()
	defer b.Close()
	fmt.Println(srv.ServeConn(a))
	// Output:
	// refused pipe shutdown
	// smb: server closed
}

// BreakCaching breaks a file's oplocks as another client's open would.
func ExampleServer_BreakCaching() {
	ts := smbtest.NewServer()
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	s, err := (&gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}).Dial(c)
	if err != nil {
		panic(err)
	}
	defer s.Logoff()
	share, err := s.Mount(ts.Share)
	if err != nil {
		panic(err)
	}
	ts.GrantOplocks(smb2.OplockLevelII) // this client asks for none
	f, err := share.Create("a.txt")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Println("oplocks", ts.Config.Stats().Oplocks)
	fmt.Println("broken", ts.Config.BreakCaching(context.Background(), ts.Share, "A.TXT", 0))
	fmt.Println("oplocks", ts.Config.Stats().Oplocks)
	// Output:
	// oplocks 1
	// broken 1
	// oplocks 0
}
