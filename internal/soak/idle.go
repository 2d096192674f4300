package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cifsd/cifsd/internal/smbwire"
)

// IdleConfig is one scale run: many authenticated, tree-connected
// connections held idle, the server's memory measured with them held, and
// every one of them checked to still answer.
type IdleConfig struct {
	// Addr is the server's "host:port"; Share, User and Password are what
	// every connection logs on and tree-connects with.
	Addr, Share, User, Password string
	// Conns is how many connections to hold (default 1000).
	Conns int
	// SourceIPs spreads the connections over this many loopback source
	// addresses, 127.0.0.1 upwards (default 1), for when one address runs
	// short of ephemeral ports. Only for a server on loopback.
	SourceIPs int
	// Parallel is how many connections are set up at once (default 32).
	Parallel int
	// Hold is how long the connections stay idle before memory is
	// measured and they are checked (default 5s).
	Hold time.Duration
	// Memory reads the server's memory; nil measures nothing.
	Memory MemorySampler
	// WhileHeld, if set, runs once the connections are held and measured,
	// before they are checked (to take a heap profile, say).
	WhileHeld func(ctx context.Context) error
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// MemorySample is a server's memory at one moment. A field the sampler
// cannot see is -1.
type MemorySample struct {
	RSS        int64 // resident set
	HeapInuse  int64 // Go heap spans in use, after a collection
	StackInuse int64 // goroutine stacks
	Goroutines int64
}

// MemorySampler reads a server's memory.
type MemorySampler interface {
	SampleMemory(ctx context.Context) (MemorySample, error)
}

// IdleReport is what a scale run found.
type IdleReport struct {
	Conns     int           // connections asked for
	Held      int           // connections set up (logged on, tree connected)
	Answered  int           // of those, how many answered an ECHO after the hold
	SetupTime time.Duration // time to set all of them up
	// Before is the server before the run, With the server holding the
	// connections.
	Before, With MemorySample
	FirstErrors  []string
}

// OK reports that every connection was set up and answered.
func (r *IdleReport) OK() bool { return r.Held == r.Conns && r.Answered == r.Conns }

// PerConn returns the growth of one memory figure divided by the
// connections held, in bytes; -1 when it was not measured.
func (r *IdleReport) PerConn(field func(MemorySample) int64) float64 {
	b, w := field(r.Before), field(r.With)
	if b < 0 || w < 0 || r.Held == 0 {
		return -1
	}
	return float64(w-b) / float64(r.Held)
}

// String is the report for a person.
func (r *IdleReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "idle: %d connections asked, %d held (set up in %v), %d answered after the hold\n",
		r.Conns, r.Held, r.SetupTime.Round(time.Millisecond), r.Answered)
	row := func(name string, f func(MemorySample) int64) {
		if f(r.Before) < 0 || f(r.With) < 0 {
			return
		}
		fmt.Fprintf(&b, "  %-12s before %8.1f MiB  with %8.1f MiB  per connection %6.2f KiB\n", name,
			float64(f(r.Before))/(1<<20), float64(f(r.With))/(1<<20), r.PerConn(f)/1024)
	}
	row("rss", func(m MemorySample) int64 { return m.RSS })
	row("heap-inuse", func(m MemorySample) int64 { return m.HeapInuse })
	row("stack-inuse", func(m MemorySample) int64 { return m.StackInuse })
	row("heap+stack", func(m MemorySample) int64 {
		if m.HeapInuse < 0 || m.StackInuse < 0 {
			return -1
		}
		return m.HeapInuse + m.StackInuse
	})
	if r.Before.Goroutines >= 0 && r.With.Goroutines >= 0 {
		fmt.Fprintf(&b, "  goroutines   before %d  with %d  per connection %.2f\n",
			r.Before.Goroutines, r.With.Goroutines, r.PerConn(func(m MemorySample) int64 { return m.Goroutines }))
	}
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	if r.OK() {
		b.WriteString("idle: OK\n")
	} else {
		b.WriteString("idle: FAILED\n")
	}
	return b.String()
}

// Idle opens cfg.Conns connections, each NEGOTIATE, SESSION_SETUP (NTLM)
// and TREE_CONNECT, holds them idle for cfg.Hold, samples the server's
// memory, sends an ECHO on every one and checks it is answered, and closes
// them all. It fails only when the run could not start; connections that
// could not be set up or did not answer are counted in the report.
func Idle(ctx context.Context, cfg IdleConfig) (*IdleReport, error) {
	if cfg.Conns <= 0 {
		cfg.Conns = 1000
	}
	if cfg.SourceIPs <= 0 {
		cfg.SourceIPs = 1
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 32
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rep := &IdleReport{Conns: cfg.Conns}
	var errMu sync.Mutex
	addErr := func(err error) {
		errMu.Lock()
		if len(rep.FirstErrors) < 5 {
			rep.FirstErrors = append(rep.FirstErrors, err.Error())
		}
		errMu.Unlock()
	}
	sample := func() MemorySample {
		if cfg.Memory == nil {
			return MemorySample{-1, -1, -1, -1}
		}
		m, err := cfg.Memory.SampleMemory(ctx)
		if err != nil {
			log.Warn("memory sample", "err", err)
			return MemorySample{-1, -1, -1, -1}
		}
		return m
	}
	rep.Before = sample()

	conns := make([]*smbwire.Client, cfg.Conns)
	var next, held atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.Parallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Conns || ctx.Err() != nil {
					return
				}
				d := &net.Dialer{Timeout: 30 * time.Second}
				if cfg.SourceIPs > 1 {
					d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, byte(i%cfg.SourceIPs/250), byte(1+i%cfg.SourceIPs%250))}
				}
				sctx, cancel := context.WithTimeout(ctx, time.Minute)
				w, err := smbwire.Dial(sctx, cfg.Addr, cfg.Share, cfg.User, cfg.Password, smbwire.Options{Dialer: d, Inline: true})
				cancel()
				if err != nil {
					addErr(fmt.Errorf("connection %d: %w", i, err))
					continue
				}
				conns[i] = w
				if n := held.Add(1); n%1000 == 0 {
					log.Info("idle: connections held", "n", n)
				}
			}
		})
	}
	wg.Wait()
	rep.SetupTime = time.Since(start)
	rep.Held = int(held.Load())
	defer func() {
		for _, w := range conns {
			if w != nil {
				w.Close()
			}
		}
	}()
	log.Info("idle: holding", "conns", rep.Held, "for", cfg.Hold)
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
		return rep, ctx.Err()
	}
	rep.With = sample()
	if cfg.WhileHeld != nil {
		if err := cfg.WhileHeld(ctx); err != nil {
			log.Warn("idle: while held", "err", err)
		}
	}

	var answered atomic.Int64
	next.Store(0)
	for range cfg.Parallel {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Conns {
					return
				}
				w := conns[i]
				if w == nil {
					continue
				}
				ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := w.Echo(ectx)
				cancel()
				if err != nil {
					addErr(fmt.Errorf("echo on connection %d: %w", i, err))
					continue
				}
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	rep.Answered = int(answered.Load())
	return rep, nil
}

// Daemon samples a cifsd daemon from outside: its resident set from
// /proc/PID/status, and, given the daemon's -pprof and -metrics addresses,
// its Go heap and stacks after a collection (the pprof heap profile with
// gc=1 runs one) and its goroutines.
type Daemon struct {
	PID     int    // 0: no resident set
	Pprof   string // host:port of -pprof; empty: no forced collection
	Metrics string // host:port of -metrics; empty: no heap, stacks or goroutines
}

// SampleMemory implements MemorySampler.
func (d Daemon) SampleMemory(ctx context.Context) (MemorySample, error) {
	m := MemorySample{-1, -1, -1, -1}
	get := func(url string) (io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return resp.Body, nil
	}
	if d.Pprof != "" {
		// Two collections: the second frees what the first's finalizers
		// released.
		for range 2 {
			body, err := get("http://" + d.Pprof + "/debug/pprof/heap?gc=1")
			if err != nil {
				return m, fmt.Errorf("soak: %w", err)
			}
			io.Copy(io.Discard, body)
			body.Close()
		}
	}
	if d.Metrics != "" {
		body, err := get("http://" + d.Metrics + "/metrics")
		if err != nil {
			return m, fmt.Errorf("soak: %w", err)
		}
		defer body.Close()
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			name, val, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				continue
			}
			switch name {
			case "go_memstats_heap_inuse_bytes":
				m.HeapInuse = int64(f)
			case "go_memstats_stack_inuse_bytes":
				m.StackInuse = int64(f)
			case "go_goroutines":
				m.Goroutines = int64(f)
			}
		}
		if err := sc.Err(); err != nil {
			return m, fmt.Errorf("soak: metrics: %w", err)
		}
	}
	if d.PID != 0 {
		s, err := Proc{PID: d.PID}.Sample()
		if err != nil {
			return m, err
		}
		m.RSS = s.HeapBytes
	}
	if m.RSS < 0 && m.HeapInuse < 0 {
		return m, errors.New("soak: nothing to sample: give a PID or a metrics address")
	}
	return m, nil
}
