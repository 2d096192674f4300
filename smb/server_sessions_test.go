package smb_test

import (
	"fmt"
	"net"
	"sync"
	"testing"

	gosmb2 "github.com/hirochachacha/go-smb2"

	"github.com/cifsd/cifsd/smb/smbtest"
)

// Sessions taken while a client opens and closes files, and while a
// second session comes and goes, sees each open whole or not at all (run
// with -race: the snapshot reads every table under its lock).
func TestSessionsWhileBusy(t *testing.T) {
	ts := smbtest.NewServer()
	defer ts.Close()
	login := func() (*gosmb2.Session, *gosmb2.Share) {
		c, err := net.Dial("tcp", ts.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		s, err := (&gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: ts.User, Password: ts.Password}}).Dial(c)
		if err != nil {
			t.Fatal(err)
		}
		sh, err := s.Mount(ts.Share)
		if err != nil {
			t.Fatal(err)
		}
		return s, sh
	}
	_, share := login()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, s := range ts.Config.Sessions() {
				for _, o := range s.Opens {
					if o.Share != ts.Share || o.Path == "" || o.TreeID == 0 {
						t.Errorf("open %+v", o)
					}
				}
			}
		}
	}()
	for i := range 50 {
		f, err := share.Create(fmt.Sprintf("f%d.txt", i))
		if err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			s2, sh2 := login()
			sh2.Mkdir(fmt.Sprintf("d%d", i), 0o755)
			s2.Logoff()
		}
		f.Close()
	}
	close(done)
	wg.Wait()
	if got := ts.Config.Sessions(); len(got) != 1 || len(got[0].Opens) != 0 || len(got[0].Trees) != 1 {
		t.Errorf("at rest: %+v", got)
	}
}
