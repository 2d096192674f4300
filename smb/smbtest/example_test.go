package smbtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	smb2c "github.com/cloudsoda/go-smb2"

	"github.com/cifsd/cifsd/smb/smbtest"
	"github.com/cifsd/cifsd/smb2"
)

// logon connects a cloudsoda/go-smb2 client to ts and mounts its share.
func logon(ts *smbtest.Server) (*smb2c.Session, *smb2c.Share) {
	d := &smb2c.Dialer{Initiator: &smb2c.NTLMInitiator{User: ts.User, Password: ts.Password}}
	s, err := d.Dial(context.Background(), ts.Addr)
	if err != nil {
		panic(err)
	}
	share, err := s.Mount(ts.Share)
	if err != nil {
		panic(err)
	}
	return s, share
}

// status names the NT status of a client's error.
func status(err error) string {
	var re *smb2c.ResponseError
	if errors.As(err, &re) {
		return smb2.Status(re.Code).String()
	}
	return fmt.Sprint(err)
}

func ExampleNewServer() {
	ts := smbtest.NewServer()
	defer ts.Close()
	s, share := logon(ts)
	defer s.Logoff()
	if err := share.WriteFile("hello.txt", []byte("hello"), 0o644); err != nil {
		panic(err)
	}
	b, _ := share.ReadFile("hello.txt")
	fmt.Println(string(b))
	// Output: hello
}

func ExampleServer_FailNext() {
	ts := smbtest.NewServer()
	defer ts.Close()
	s, share := logon(ts)
	defer s.Logoff()

	// The client's next CREATE fails as if the server were out of memory.
	ts.FailNext(smb2.Create, smb2.StatusInsufficientResources)
	_, err := share.Create("a.txt")
	fmt.Println(status(err))
	_, err = share.Create("a.txt")
	fmt.Println(err)
	// Output:
	// STATUS_INSUFFICIENT_RESOURCES
	// <nil>
}

func ExampleServer_DropAfter() {
	ts := smbtest.NewServer()
	defer ts.Close()
	s, _ := logon(ts)

	// Answer one more request, then drop the connection.
	ts.DropAfter(1)
	fmt.Println(s.Echo())
	fmt.Println(s.Echo() != nil)
	// Output:
	// <nil>
	// true
}

func ExampleServer_DelayAfter() {
	ts := smbtest.NewServer()
	defer ts.Close()
	s, _ := logon(ts)
	defer s.Logoff()

	// Every request from now on waits a minute: the client's own
	// deadline passes first.
	ts.DelayAfter(0, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.WithContext(ctx).Echo()
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	ts.ClearFaults()
	fmt.Println(s.Echo())
	// Output:
	// true
	// <nil>
}

func ExampleServer_BreakLeases() {
	ts := smbtest.NewServer()
	defer ts.Close()
	s, share := logon(ts)
	defer s.Logoff()
	if err := share.WriteFile("doc.txt", []byte("text"), 0o644); err != nil {
		panic(err)
	}

	// This client asks for no oplocks; have it granted a level II one,
	// then break it as another client's write would.
	ts.GrantOplocks(smb2.OplockLevelII)
	f, err := share.Open("doc.txt")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Println(ts.BreakLeases(context.Background(), "doc.txt"), "open broken")
	// Output: 1 open broken
}

func ExampleServer_ExpireSessions() {
	ts := smbtest.NewServer()
	defer ts.Close()
	s, share := logon(ts)
	defer s.Logoff()

	ts.ExpireSessions()
	_, err := share.ReadDir(".")
	fmt.Println(status(err))
	// Output: STATUS_NETWORK_SESSION_EXPIRED
}

func ExampleServer_FailAfter() {
	ts := smbtest.NewServer()
	defer ts.Close()
	s, share := logon(ts)
	defer s.Logoff()
	f, err := share.Create("big.bin")
	if err != nil {
		panic(err)
	}
	defer f.Close()

	// The first WRITE succeeds, the second finds the disk full.
	ts.FailAfter(1, smb2.Write, smb2.StatusDiskFull)
	_, err = f.Write([]byte("first"))
	fmt.Println(err)
	_, err = f.Write([]byte("second"))
	fmt.Println(status(err))
	// Output:
	// <nil>
	// STATUS_DISK_FULL
}
