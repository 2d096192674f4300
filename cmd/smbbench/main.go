// Command smbbench is the metadata load generator of `make bench`: it runs
// the same workload against any SMB2/3 server (cifsd and Samba's smbd in
// the bench script), so the rates compare like with like.
//
// Usage:
//
//	smbbench -addr 127.0.0.1:445 [-share share] [-user U] [-pass P]
//	         [-conns 1,8] [-files 10000] [-time 3s] [-ops create,stat,list,rename,delete]
//	         [-pid SERVER_PID] [-client wire|gosmb2] [-cpuprofile FILE]
//	smbbench -ticks -pid SERVER_PID
//	smbbench -slow 5ms [-conns 1,32] [-time 5s] [-ops create,stat,rename,delete]
//
// The client (-client) is wire by default: internal/smbwire, a small
// client that builds its messages itself and does not allocate per
// request, so it costs less CPU per operation than either server. The
// bench compares servers: with one connection the wall time of an
// operation is the client's CPU plus the server's, and with several on a
// small machine the client competes with the server for the cores, so a
// client as costly as the servers (gosmb2, github.com/hirochachacha/go-smb2:
// a stat costs it about as much CPU as it costs cifsd) pulls the rates of
// both servers toward each other. For every operation the wire client
// sends what go-smb2 sends (dialect 3.1.1, the same CREATE access,
// attributes, sharing, disposition and options, FileDirectoryInformation
// listings in buffers of the server's MaxTransactSize up to 1 MiB), so
// the servers do the same work for either.
//
// For each connection count it opens that many connections (one session
// and tree each, one goroutine each) and runs the phases in order, in a new
// directory:
//
//	create  create+close of new files (FILE_OVERWRITE_IF, no oplock);
//	        -files of them in all, or as many as fit in -time when -files is 0
//	stat    open (FILE_READ_ATTRIBUTES) + close of the files, for -time
//	list    open the directory, QUERY_DIRECTORY until the end, close, for -time
//	rename  rename each file to a new name in the same directory, for -time
//	delete  delete each file (open for DELETE, disposition, close), for -time
//
// A phase ends when its time is up or each connection has done its share
// of the files. Each prints one line, tab-separated, for the bench script:
//
//	LABEL CONNS OP OPS_PER_SECOND OPS SECONDS BACKEND_CALLS_PER_OP SERVER_CPU_MS_PER_OP CLIENT_CPU_MS_PER_OP
//
// BACKEND_CALLS_PER_OP is "-" but with -slow, where the wrapper counts
// them. SERVER_CPU_MS_PER_OP is the CPU time (user + system) the server's
// process -pid and its descendants (smbd forks one per connection) used
// during the phase, per operation, read from /proc; "-" without -pid. It
// does not depend on how busy the machine is, as the rates do. With
// -ticks the tool prints that CPU time so far, in clock ticks (1/100 s),
// and exits (for the bench script's smbtorture rows). CLIENT_CPU_MS_PER_OP
// is the CPU time (user + system) of smbbench itself during the phase, per
// operation (getrusage): the client's cost; with -slow it includes the
// in-process server's.
//
// With -slow D the tool first starts an in-process cifsd server (the smb
// package as a library) on 127.0.0.1 serving an in-memory share behind
// internal/latencyfs, which adds D to every backend call, and runs the
// workload against it: how far a server overlaps backend calls of
// different clients shows as the ratio of the rates with many connections
// and with one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "smbbench:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := config{}
	flag.StringVar(&cfg.addr, "addr", "", "server address HOST:PORT (not with -slow)")
	flag.StringVar(&cfg.share, "share", "share", "share name")
	flag.StringVar(&cfg.user, "user", "tester", "user name")
	flag.StringVar(&cfg.pass, "pass", "testpass", "password")
	conns := flag.String("conns", "1,8", "connection counts to run, comma-separated")
	flag.IntVar(&cfg.files, "files", 10000, "files created in all (0: as many as -time allows)")
	flag.DurationVar(&cfg.phase, "time", 3*time.Second, "duration of each timed phase")
	ops := flag.String("ops", "create,stat,list,rename,delete", "phases to run, in this order")
	flag.StringVar(&cfg.label, "label", "", "first column of the output (default: the address, or slow)")
	slow := flag.Duration("slow", 0, "serve an in-process in-memory share with this delay per backend call")
	flag.StringVar(&cfg.dir, "dir", "smbbench", "prefix of the directories created on the share")
	flag.IntVar(&cfg.pid, "pid", 0, "the server's process: report its CPU (and its descendants') per operation")
	ticks := flag.Bool("ticks", false, "print the CPU ticks of -pid and its descendants so far, and exit")
	cpuprofile := flag.String("cpuprofile", "", "write smbbench's own CPU profile (the client's) to this file")
	flag.StringVar(&cfg.client, "client", clientWire, "client: wire (internal/smbwire, cheap) or gosmb2 (github.com/hirochachacha/go-smb2)")
	flag.Parse()

	if *ticks {
		t := treeCPU(cfg.pid)
		if t < 0 {
			return fmt.Errorf("-ticks: no process %d", cfg.pid)
		}
		fmt.Println(t)
		return nil
	}
	var err error
	if cfg.conns, err = parseInts(*conns); err != nil {
		return fmt.Errorf("-conns: %w", err)
	}
	if cfg.ops, err = parseOps(*ops); err != nil {
		return fmt.Errorf("-ops: %w", err)
	}
	if cfg.client != clientWire && cfg.client != clientGoSMB2 {
		return fmt.Errorf("-client %q: wire or gosmb2", cfg.client)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	if *slow > 0 {
		if cfg.addr != "" {
			return errors.New("-addr and -slow exclude each other")
		}
		srv, err := startSlowServer(cfg.share, cfg.user, cfg.pass, *slow)
		if err != nil {
			return err
		}
		defer srv.Close()
		cfg.addr = srv.addr
		cfg.calls = srv.calls.Calls
		if cfg.label == "" {
			cfg.label = "slow"
		}
	}
	if cfg.addr == "" {
		return errors.New("-addr or -slow is required")
	}
	if cfg.label == "" {
		cfg.label = cfg.addr
	}
	for _, n := range cfg.conns {
		results, err := runWorkload(ctx, cfg, n)
		if err != nil {
			return fmt.Errorf("%d connections: %w", n, err)
		}
		for _, r := range results {
			fmt.Printf("%s\t%d\t%s\t%.1f\t%d\t%.3f\t%s\t%s\t%s\n", cfg.label, n, r.op, r.rate(), r.n, r.elapsed.Seconds(),
				r.callsPerOp(), r.cpuPerOp(), r.clientCPUPerOp())
		}
	}
	return nil
}

// config is what the flags set.
type config struct {
	addr, share, user, pass string
	label, dir              string
	client                  string // clientWire or clientGoSMB2
	conns                   []int
	files                   int
	phase                   time.Duration
	ops                     []string
	calls                   func() int64 // backend calls so far (-slow); nil: not counted
	pid                     int          // the server's process (-pid); 0: CPU not measured
}

// serverCPU returns the server's CPU ticks so far, or -1 when not measured.
func (c config) serverCPU() int64 {
	if c.pid <= 0 {
		return -1
	}
	return treeCPU(c.pid)
}

// backendCalls returns the backend calls so far, or -1 when not counted.
func (c config) backendCalls() int64 {
	if c.calls == nil {
		return -1
	}
	return c.calls()
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("%q is not a count from 1 to 1024", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseOps(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "create", "stat", "list", "rename", "delete":
			out = append(out, f)
		default:
			return nil, fmt.Errorf("unknown phase %q", f)
		}
	}
	return out, nil
}
