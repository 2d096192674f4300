package smb

import (
	"context"
	"sync"
	"time"
)

// LogonThrottle makes password guessing over SESSION_SETUP cost the
// guesser time: past a few free failures, each failed logon of a client
// address is answered later than the one before, and failures that arrive
// together (many connections guessing at once) queue behind each other.
// Successful logons are never delayed. A zero field takes its default
// (DefaultLogonThrottle); a negative Delay turns the throttle off.
type LogonThrottle struct {
	// Free is how many failures an address may have before its failures
	// are delayed.
	Free int
	// Delay is the wait of the first delayed failure; each further one
	// waits twice as long as the one before, up to MaxDelay.
	Delay time.Duration
	// MaxDelay bounds the wait of one failure. A failure that would have to
	// queue for more than four times MaxDelay behind its address's earlier
	// failures closes the connection instead.
	MaxDelay time.Duration
	// Window is how long an address's failures are remembered after its
	// last one.
	Window time.Duration
}

// DefaultLogonThrottle is the throttle a zero LogonThrottle field takes:
// three mistyped passwords cost nothing, a guesser's hundredth guess costs
// 30 seconds.
var DefaultLogonThrottle = LogonThrottle{
	Free:     3,
	Delay:    250 * time.Millisecond,
	MaxDelay: 30 * time.Second,
	Window:   15 * time.Minute,
}

// maxThrottled bounds the addresses the throttle remembers.
const maxThrottled = 4096

// logonThrottle is the failed logons of each client address.
type logonThrottle struct {
	mu    sync.Mutex
	addrs map[string]*failedLogons
	// now and sleep are the clock; nil is the real one (tests set them).
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

type failedLogons struct {
	n    int       // failures within the window
	last time.Time // the latest failure
	next time.Time // when the queue of this address's answers ends
}

func (t *logonThrottle) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

func (t *logonThrottle) wait(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// failed records a failed logon from ip and returns how long its answer
// waits; drop is set when the address's queue is too long to wait in.
func (t *logonThrottle) failed(cfg LogonThrottle, ip string) (wait time.Duration, drop bool) {
	free := limitValue(cfg.Free, DefaultLogonThrottle.Free)
	delay := cfg.Delay
	if delay < 0 {
		return 0, false
	}
	if delay == 0 {
		delay = DefaultLogonThrottle.Delay
	}
	maxDelay := limitValue(cfg.MaxDelay, DefaultLogonThrottle.MaxDelay)
	window := limitValue(cfg.Window, DefaultLogonThrottle.Window)
	now := t.clock()

	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.addrs[ip]
	if f != nil && window > 0 && now.Sub(f.last) > window {
		f = nil // forgotten
	}
	if f == nil {
		if t.addrs == nil {
			t.addrs = make(map[string]*failedLogons)
		}
		if len(t.addrs) >= maxThrottled {
			t.prune(now, window)
		}
		f = &failedLogons{}
		t.addrs[ip] = f
	}
	f.n++
	f.last = now
	if f.n <= free {
		return 0, false
	}
	d := delay
	for i := free + 1; i < f.n && (maxDelay <= 0 || d < maxDelay); i++ {
		d *= 2
	}
	if maxDelay > 0 {
		d = min(d, maxDelay)
	}
	start := now
	if f.next.After(now) {
		start = f.next
	}
	if maxDelay > 0 && start.Sub(now) > 4*maxDelay {
		return 0, true
	}
	f.next = start.Add(d)
	return f.next.Sub(now), false
}

// prune forgets the addresses whose window has passed; if none has, one
// arbitrary address, so the map stays bounded.
func (t *logonThrottle) prune(now time.Time, window time.Duration) {
	for ip, f := range t.addrs {
		if window > 0 && now.Sub(f.last) > window {
			delete(t.addrs, ip)
		}
	}
	for ip := range t.addrs {
		if len(t.addrs) < maxThrottled {
			break
		}
		delete(t.addrs, ip)
	}
}

// throttleFailedLogon delays the answer to a failed logon on c by what
// the client's address has earned; false means drop the connection
// instead of answering.
func (s *Server) throttleFailedLogon(ctx context.Context, c *conn) bool {
	ip := clientIP(c.remoteAddr)
	if ip == "" {
		return true
	}
	d, drop := s.throttle.failed(s.LogonThrottle, ip)
	if drop {
		s.refused(RefusedLogonThrottle, c.remoteAddr)
		return false
	}
	if d <= 0 {
		return true
	}
	c.log.Info("failed logon delayed", "delay", d)
	return s.throttle.wait(ctx, d) == nil
}
