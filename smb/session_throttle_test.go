package smb

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cifsd/cifsd/smb2"
)

// fakeClock is a clock a test moves by hand; sleeping records the wait
// and moves the clock past it.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// The free failures cost nothing; each later one waits twice as long as
// the one before, up to MaxDelay; failures that arrive together queue; an
// address's failures are forgotten a Window after its last one; other
// addresses are not slowed.
func TestLogonThrottleDelays(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := logonThrottle{now: clk.now}
	cfg := LogonThrottle{Free: 2, Delay: time.Second, MaxDelay: 4 * time.Second, Window: time.Hour}
	var got []time.Duration
	for range 6 {
		d, drop := th.failed(cfg, "10.0.0.1")
		if drop {
			t.Fatal("dropped a failure with nothing queued")
		}
		got = append(got, d)
		clk.advance(d) // the guesser waits for each answer
	}
	want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	if d, _ := th.failed(cfg, "10.0.0.2"); d != 0 {
		t.Fatalf("another address waits %v", d)
	}

	// Three guesses at once (three connections): they queue, so guessing
	// in parallel saves the guesser nothing.
	var queued []time.Duration
	for range 3 {
		d, _ := th.failed(cfg, "10.0.0.1")
		queued = append(queued, d)
	}
	if want := []time.Duration{4 * time.Second, 8 * time.Second, 12 * time.Second}; !reflect.DeepEqual(queued, want) {
		t.Fatalf("parallel waits %v, want %v", queued, want)
	}
	// A queue longer than 4 x MaxDelay is not waited in: the connection
	// is dropped.
	th.failed(cfg, "10.0.0.1")
	th.failed(cfg, "10.0.0.1")
	if _, drop := th.failed(cfg, "10.0.0.1"); !drop {
		t.Fatal("a failure behind a queue of 20s was not dropped")
	}

	clk.advance(2 * time.Hour)
	if d, _ := th.failed(cfg, "10.0.0.1"); d != 0 {
		t.Fatalf("after the window the first failure waits %v", d)
	}
	if len(th.addrs) != 2 {
		t.Errorf("addresses remembered: %d", len(th.addrs))
	}
}

// The throttle remembers a bounded number of addresses.
func TestLogonThrottleBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	th := logonThrottle{now: clk.now}
	for i := range maxThrottled + 100 {
		th.failed(LogonThrottle{}, string(rune(i)))
	}
	if n := len(th.addrs); n > maxThrottled {
		t.Fatalf("%d addresses remembered, bound %d", n, maxThrottled)
	}
}

// Over the wire: a client address that keeps failing to log on has its
// failures answered later and later, while a successful logon from the same
// address is not slowed at all.
func TestFailedLogonsAreDelayed(t *testing.T) {
	srv := newTokenServer(t)
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	srv.throttle.now, srv.throttle.sleep = clk.now, clk.sleep
	srv.LogonThrottle = LogonThrottle{Free: 1, Delay: time.Second, MaxDelay: time.Minute}
	addr := listen(t, srv)
	w := tcpClient(t, "127.0.0.3", addr)
	w.negotiate302(0, 1)
	for i := range 4 {
		w.sid = 0
		if st := w.setup("bad", 0); st != smb2.StatusLogonFailure {
			t.Fatalf("guess %d: %v", i, st)
		}
		if waits := clk.waits(); len(waits) > 0 {
			clk.advance(waits[len(waits)-1])
		}
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	if got := clk.waits(); !reflect.DeepEqual(got, want) {
		t.Fatalf("failed logons waited %v, want %v", got, want)
	}
	w.sid = 0
	w.mustSetup("alice", 0)
	other := tcpClient(t, "127.0.0.3", addr)
	other.negotiate302(0, 2)
	other.mustSetup("bob", 0)
	if got := clk.waits(); len(got) != len(want) {
		t.Fatalf("successful logons waited: %v", got[len(want):])
	}
}
