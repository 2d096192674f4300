// Command cifsd-soak runs many concurrent SMB clients with a mixed,
// self-verifying workload against a cifsd server for a while, and reports
// operations, errors, wrong bytes and the server's goroutines and memory
// through the run (see package internal/soak).
//
// By default it starts cifsd in this process on a temporary OS directory,
// with the server's defaults, and samples its goroutines and Go heap:
//
//	cifsd-soak -clients 200 -duration 10m
//
// With -addr it drives a server already running (a cifsd daemon) and, given
// -pid, samples that process's resident memory:
//
//	cifsd-soak -addr 127.0.0.1:4450 -share soak -user u -password p -pid 1234
//
// It exits 1 if any operation failed, any byte came back wrong, or the
// server's goroutines did not return to their count before the run.
//
// With -idle N it runs the scale test instead: it opens N connections to a
// running daemon, each logged on (NTLM) and tree connected, holds them
// idle, measures the daemon's memory (resident set through -pid; Go heap,
// stacks and goroutines through the daemon's -pprof and -metrics), checks
// every connection still answers an ECHO, and closes them (scripts/scale.sh,
// make scale):
//
//	cifsd-soak -idle 10000 -source-ips 4 -addr 127.0.0.1:4450 -share s -user u -password p \
//		-pid 1234 -daemon-pprof 127.0.0.1:6060 -daemon-metrics 127.0.0.1:9100
//
// It exits 1 unless all N were set up and answered.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cifsd/cifsd/internal/soak"
	"github.com/cifsd/cifsd/vfs"
)

func main() {
	clients := flag.Int("clients", 10, "concurrent clients")
	duration := flag.Duration("duration", 30*time.Second, "how long the clients run")
	addr := flag.String("addr", "", "server to drive (host:port); empty starts cifsd in this process")
	share := flag.String("share", "", "share (with -addr)")
	user := flag.String("user", "", "user (with -addr)")
	password := flag.String("password", "", "password (with -addr)")
	pid := flag.Int("pid", 0, "with -addr: the server's process id, sampled through /proc")
	dir := flag.String("dir", "", "in process: directory to serve (default a new temporary one, removed after)")
	mem := flag.Bool("mem", false, "in process: serve an in-memory file system instead of a directory")
	slots := flag.Int("slots", 0, "4 KiB slots in the shared file (default clients/2)")
	maxFile := flag.Int("max-file-size", 256<<10, "largest file a client writes, in bytes")
	interval := flag.Duration("interval", 5*time.Second, "sampling interval")
	settle := flag.Duration("settle", time.Minute, "how long to wait after the run for the server's goroutines to return to their count")
	verbose := flag.Bool("v", false, "log samples and errors as they happen")
	idle := flag.Int("idle", 0, "scale run: hold this many idle, tree-connected connections to -addr (0: the soak workload)")
	sourceIPs := flag.Int("source-ips", 1, "with -idle: spread connections over this many loopback addresses 127.0.0.1 upwards")
	parallel := flag.Int("parallel", 32, "with -idle: connections set up at once")
	hold := flag.Duration("hold", 5*time.Second, "with -idle: how long the connections stay idle before they are measured and checked")
	daemonPprof := flag.String("daemon-pprof", "", "with -idle: the daemon's -pprof address (forces a collection before each sample)")
	daemonMetrics := flag.String("daemon-metrics", "", "with -idle: the daemon's -metrics address (Go heap, stacks, goroutines)")
	heapProfile := flag.String("daemon-heap-profile", "", "with -idle and -daemon-pprof: save the daemon's heap profile, taken with the connections held, to this file")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *idle > 0 {
		if *addr == "" {
			fatal(fmt.Errorf("-idle needs -addr: a daemon in its own process"))
		}
		rep, err := soak.Idle(ctx, soak.IdleConfig{
			Addr: *addr, Share: *share, User: *user, Password: *password,
			Conns: *idle, SourceIPs: *sourceIPs, Parallel: *parallel, Hold: *hold,
			Memory: soak.Daemon{PID: *pid, Pprof: *daemonPprof, Metrics: *daemonMetrics},
			Logger: log,
			WhileHeld: func(ctx context.Context) error {
				if *heapProfile == "" || *daemonPprof == "" {
					return nil
				}
				return saveURL(ctx, "http://"+*daemonPprof+"/debug/pprof/heap?gc=1", *heapProfile)
			},
		})
		if err != nil {
			fatal(err)
		}
		fmt.Print(rep)
		if !rep.OK() {
			os.Exit(1)
		}
		return
	}

	var cfg soak.Config
	if *addr == "" {
		var fsys vfs.FS
		if *mem {
			fsys = vfs.NewMem()
		} else {
			root := *dir
			if root == "" {
				tmp, err := os.MkdirTemp("", "cifsd-soak-")
				if err != nil {
					fatal(err)
				}
				defer os.RemoveAll(tmp)
				root = tmp
			}
			d, err := vfs.Dir(root)
			if err != nil {
				fatal(err)
			}
			fsys = d
		}
		srv, err := soak.StartServer(fsys, log.With("side", "server"))
		if err != nil {
			fatal(err)
		}
		defer srv.Close()
		cfg = srv.Config()
	} else {
		cfg = soak.Config{Addr: *addr, Share: *share, User: *user, Password: *password}
		if *pid != 0 {
			cfg.Sampler = soak.Proc{PID: *pid}
		}
	}
	cfg.Clients, cfg.Duration, cfg.Slots, cfg.MaxFileSize = *clients, *duration, *slots, *maxFile
	cfg.SampleInterval, cfg.SettleTimeout, cfg.Logger = *interval, *settle, log

	t0 := time.Now()
	rep, err := soak.Run(ctx, cfg)
	if err != nil {
		fatal(err)
	}
	fmt.Print(rep)
	fmt.Printf("wall time %v\n", time.Since(t0).Round(time.Second))
	if !rep.OK() {
		os.Exit(1)
	}
}

// saveURL writes what GET url answers to the file path.
func saveURL(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "cifsd-soak:", err)
	os.Exit(2)
}
