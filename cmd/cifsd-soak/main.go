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
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
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
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

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

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "cifsd-soak:", err)
	os.Exit(2)
}
