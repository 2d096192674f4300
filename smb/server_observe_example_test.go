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

// Sessions lists who is connected and what they hold, as smbstatus does.
func ExampleServer_Sessions() {
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
	if err := share.Mkdir("docs", 0o755); err != nil {
		panic(err)
	}
	f, err := share.Create(`docs\a.txt`)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	for _, sess := range ts.Config.Sessions() {
		fmt.Printf("user %s, signed %v, client from here %v\n", sess.User, sess.Signed,
			sess.Client[:len("127.0.0.1:")] == "127.0.0.1:")
		for _, t := range sess.Trees {
			fmt.Printf("  tree %s\n", t.Share)
		}
		for _, o := range sess.Opens {
			fmt.Printf("  open %s on %s, writable %v, others may read %v\n", o.Path, o.Share,
				o.GrantedAccess&smb2.FileWriteData != 0, o.ShareAccess&smb2.FileShareRead != 0)
		}
	}
	// Output:
	// user tester, signed true, client from here true
	//   tree share
	//   open docs/a.txt on share, writable true, others may read true
}
