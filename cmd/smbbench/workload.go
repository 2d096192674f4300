package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// result is one phase's outcome: n operations in elapsed wall time.
type result struct {
	op      string
	n       int64
	elapsed time.Duration
	calls   int64 // backend calls meanwhile (-slow only), else -1
	cpu     int64 // server CPU ticks meanwhile (-pid), else -1
	// clientCPU is this process's CPU time meanwhile: the client's (and,
	// with -slow, the in-process server's too); -1 when not measured.
	clientCPU time.Duration
}

// clientCPUPerOp is this process's CPU time in milliseconds per operation,
// "-" when not measured.
func (r result) clientCPUPerOp() string {
	if r.clientCPU < 0 || r.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.4f", float64(r.clientCPU)/float64(time.Millisecond)/float64(r.n))
}

// callsPerOp is the backend calls per operation, "-" when not counted.
func (r result) callsPerOp() string {
	if r.calls < 0 || r.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(r.calls)/float64(r.n))
}

func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.n) / r.elapsed.Seconds()
}

// client is one connection: its own session and tree connect, used by one
// goroutine. created and renamed count its files (names in name).
type client struct {
	conn    benchConn
	id      int
	dir     string
	created int
	renamed int
}

func (c *client) name(prefix string, i int) string {
	return fmt.Sprintf(`%s\%s%02d-%06d`, c.dir, prefix, c.id, i)
}

func (c *client) close() { c.conn.close() }

func dialClient(ctx context.Context, cfg config, id int, dir string) (*client, error) {
	var conn benchConn
	var err error
	switch cfg.client {
	case clientGoSMB2:
		conn, err = dialGoSMB2(ctx, cfg)
	case clientWire, "":
		conn, err = dialWire(ctx, cfg)
	default:
		err = fmt.Errorf("unknown client %q", cfg.client)
	}
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, id: id, dir: dir}, nil
}

// workDir is the directory the run with n connections works in.
func workDir(cfg config, n int) string { return fmt.Sprintf("%s-%d-c%d", cfg.dir, os.Getpid(), n) }

// runWorkload runs cfg.ops with n connections in a new directory.
func runWorkload(ctx context.Context, cfg config, n int) ([]result, error) {
	if len(cfg.ops) > 0 && (cfg.ops[0] != "create" || slices.Contains(cfg.ops[1:], "create")) {
		return nil, errors.New("every phase works on the files the create phase makes: list create first, once")
	}
	dir := workDir(cfg, n)
	dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	clients := make([]*client, 0, n)
	defer func() {
		for _, c := range clients {
			c.close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := dialClient(dctx, cfg, i, dir)
		if err != nil {
			return nil, fmt.Errorf("connection %d: %w", i+1, err)
		}
		clients = append(clients, c)
	}
	if err := clients[0].conn.mkdir(dir); err != nil {
		return nil, fmt.Errorf("mkdir %s: %w", dir, err)
	}

	var results []result
	for _, op := range cfg.ops {
		var r result
		var err error
		calls0 := cfg.backendCalls()
		cpu0 := cfg.serverCPU()
		self0 := selfCPU()
		switch op {
		case "create":
			quota := -1 // no count bound: the phase time alone
			var limit time.Duration
			if cfg.files > 0 {
				quota = (cfg.files + n - 1) / n
			} else {
				limit = cfg.phase
			}
			r, err = phase(op, clients, limit, func(c *client, i int) (bool, error) {
				if quota >= 0 && i >= quota {
					return false, nil
				}
				if err := c.conn.create(c.name("f", i)); err != nil {
					return false, err
				}
				c.created++
				return true, nil
			})
		case "stat":
			r, err = phase(op, clients, cfg.phase, func(c *client, i int) (bool, error) {
				if c.created == 0 {
					return false, nil
				}
				return true, c.conn.stat(c.name("f", i%c.created))
			})
		case "list":
			want := 0
			for _, c := range clients {
				want += c.created
			}
			r, err = phase(op, clients, cfg.phase, func(c *client, i int) (bool, error) {
				n, err := c.conn.list(c.dir)
				if err == nil && n != want {
					err = fmt.Errorf("listing of %s has %d entries, want %d", c.dir, n, want)
				}
				return true, err
			})
		case "rename":
			r, err = phase(op, clients, cfg.phase, func(c *client, i int) (bool, error) {
				if i >= c.created {
					return false, nil
				}
				if err := c.conn.rename(c.name("f", i), c.name("r", i)); err != nil {
					return false, err
				}
				c.renamed++
				return true, nil
			})
		case "delete":
			r, err = phase(op, clients, cfg.phase, func(c *client, i int) (bool, error) {
				if i >= c.created {
					return false, nil
				}
				name := c.name("f", i)
				if i < c.renamed {
					name = c.name("r", i)
				}
				return true, c.conn.remove(name)
			})
		}
		if err != nil {
			return results, fmt.Errorf("%s: %w", op, err)
		}
		r.calls, r.cpu, r.clientCPU = -1, -1, -1
		if self1 := selfCPU(); self0 >= 0 && self1 >= self0 {
			r.clientCPU = self1 - self0
		}
		if calls0 >= 0 {
			r.calls = cfg.backendCalls() - calls0
		}
		if cpu1 := cfg.serverCPU(); cpu0 >= 0 && cpu1 >= cpu0 {
			r.cpu = cpu1 - cpu0
		}
		results = append(results, r)
	}
	return results, nil
}

// phase runs op on every client at once: each calls step with i = 0, 1,
// ... until step reports no more work, or limit (when not 0) has passed
// since the start. Only the steps that reported work count.
func phase(op string, clients []*client, limit time.Duration, step func(c *client, i int) (bool, error)) (result, error) {
	var (
		count atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	var deadline time.Time
	if limit > 0 {
		deadline = start.Add(limit)
	}
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; deadline.IsZero() || time.Now().Before(deadline); i++ {
				more, err := step(c, i)
				if err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("connection %d: %w", c.id+1, err)
					}
					mu.Unlock()
					return
				}
				if !more {
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return result{op: op, n: count.Load(), elapsed: time.Since(start)}, first
}
