// Package soak drives an SMB server with many concurrent clients running a
// mixed, self-verifying workload, and reports what went wrong: operations
// done, errors, bytes that came back different from what was written, and
// the server's goroutines and memory sampled through the run.
//
// Each client holds two connections: one through the go-smb2 client
// library (file churn: write, read back and compare, stat, rename, list,
// delete) and one through the repo's small wire client (internal/smbwire)
// for what the library cannot send (byte-range locks, blocking ones
// included, on one file all clients share, and CHANGE_NOTIFY).
//
// The shared file is a row of slots. A client takes an exclusive blocking
// lock on a run of slots that overlaps other clients' runs, checks every
// slot holds a whole stamp (a header naming its writer and sequence, and a
// body derived from both), writes its own stamps, reads them back and
// unlocks. A slot mixing two writers, or a write that lands outside its
// lock, shows as wrong bytes.
package soak

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gosmb2 "github.com/cloudsoda/go-smb2"

	"github.com/cifsd/cifsd/internal/smbwire"
	"github.com/cifsd/cifsd/smb2"
)

// Config is one soak run.
type Config struct {
	// Addr is the server's "host:port"; Share, User and Password are what
	// every client connects with.
	Addr, Share, User, Password string
	// Clients is how many clients run at once (default 10).
	Clients int
	// Duration is how long they run (default 30s).
	Duration time.Duration
	// Slots is the number of 4 KiB slots in the shared file (default
	// Clients/2, at least 4): fewer slots, more lock contention.
	Slots int
	// MaxFileSize bounds the files each client writes (default 256 KiB).
	MaxFileSize int
	// Sampler, if set, is asked for the server's state every
	// SampleInterval (default 1s), before, through and after the run.
	Sampler        Sampler
	SampleInterval time.Duration
	// SettleTimeout bounds the wait, after the clients leave, for the
	// server's goroutines to return to their count before the run
	// (default 30s).
	SettleTimeout time.Duration
	// Logger receives progress and the first errors; nil discards.
	Logger *slog.Logger
}

// Sample is the server's state at one moment. A field the sampler cannot
// see is -1.
type Sample struct {
	At         time.Duration // since the run started
	Goroutines int
	HeapBytes  int64 // Go heap in use (in process) or resident set (another process)
}

// Sampler reads the server's state.
type Sampler interface {
	Sample() (Sample, error)
}

// Report is what a run found.
type Report struct {
	Clients  int
	Duration time.Duration
	// Ops counts operations done by kind (write, read, rename, stat, list,
	// delete, lock, lock-wait: a lock granted after STATUS_PENDING,
	// shared-write, notify ...).
	Ops map[string]int64
	// Errors counts operations that failed; FirstErrors holds the first
	// few messages.
	Errors      int64
	FirstErrors []string
	// WrongBytes counts bytes read back different from what was written.
	WrongBytes int64
	// Baseline is the server before any client connected, Peak the largest
	// values sampled during the run, After the server once the clients
	// left and its goroutines settled (or SettleTimeout passed).
	Baseline, Peak, After Sample
	// Samples are every sample taken, in order.
	Samples []Sample
	// Settled reports whether the goroutines came back to Baseline's count,
	// SettleTime how long after the clients left they took.
	Settled    bool
	SettleTime time.Duration
}

// OK reports a run with no error, no wrong byte and goroutines back to the
// baseline.
func (r *Report) OK() bool {
	return r.Errors == 0 && r.WrongBytes == 0 && (r.Settled || r.Baseline.Goroutines < 0)
}

// String is the report for a person.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %d clients for %v\n", r.Clients, r.Duration.Round(time.Second))
	var total int64
	kinds := make([]string, 0, len(r.Ops))
	for k, n := range r.Ops {
		kinds = append(kinds, k)
		total += n
	}
	slices.Sort(kinds)
	fmt.Fprintf(&b, "operations: %d (%.0f/s)\n", total, float64(total)/r.Duration.Seconds())
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %-14s %d\n", k, r.Ops[k])
	}
	fmt.Fprintf(&b, "errors: %d\nwrong bytes: %d\n", r.Errors, r.WrongBytes)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	if r.Baseline.Goroutines >= 0 {
		fmt.Fprintf(&b, "server goroutines: baseline %d, peak %d, after %d (settled: %v, %v after the clients left)\n",
			r.Baseline.Goroutines, r.Peak.Goroutines, r.After.Goroutines, r.Settled, r.SettleTime.Round(100*time.Millisecond))
	} else {
		b.WriteString("server goroutines: not visible from this process\n")
	}
	fmt.Fprintf(&b, "server memory (Go heap in process, else resident set): baseline %s, peak %s, after %s\n",
		mib(r.Baseline.HeapBytes), mib(r.Peak.HeapBytes), mib(r.After.HeapBytes))
	return b.String()
}

func mib(n int64) string {
	if n < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

const slotSize = 4096

// run is the state shared by the clients of one run.
type run struct {
	cfg        Config
	log        *slog.Logger
	mu         sync.Mutex
	ops        map[string]int64
	errs       []string
	nerr       atomic.Int64
	wrongBytes atomic.Int64
}

func (r *run) count(kind string, n int64) {
	r.mu.Lock()
	r.ops[kind] += n
	r.mu.Unlock()
}

func (r *run) fail(client int, err error) {
	n := r.nerr.Add(1)
	if n <= 20 {
		msg := fmt.Sprintf("client %d: %v", client, err)
		r.mu.Lock()
		r.errs = append(r.errs, msg)
		r.mu.Unlock()
		r.log.Warn("soak error", "client", client, "err", err)
	}
}

func (r *run) wrong(client int, what string, got, want []byte) {
	n := int64(0)
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			n++
		}
	}
	r.wrongBytes.Add(n)
	r.fail(client, fmt.Errorf("%s: %d wrong bytes (%d read, %d expected)", what, n, len(got), len(want)))
}

// Run runs the soak described by cfg until it is done or ctx ends, and
// returns its report. An error means the run could not start (the server
// is not reachable); failures during the run are in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 10
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Slots <= 0 {
		cfg.Slots = max(4, cfg.Clients/2)
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 256 << 10
	}
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = time.Second
	}
	if cfg.SettleTimeout <= 0 {
		cfg.SettleTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &run{cfg: cfg, log: log, ops: map[string]int64{}}
	rep := &Report{Clients: cfg.Clients, Duration: cfg.Duration}
	start := time.Now()
	sample := func() Sample {
		if cfg.Sampler == nil {
			return Sample{Goroutines: -1, HeapBytes: -1}
		}
		s, err := cfg.Sampler.Sample()
		if err != nil {
			log.Warn("sample", "err", err)
			return Sample{Goroutines: -1, HeapBytes: -1}
		}
		s.At = time.Since(start)
		return s
	}
	rep.Baseline = sample()
	rep.Peak = rep.Baseline
	rep.Samples = append(rep.Samples, rep.Baseline)

	// Prepare the shared file, all zeros (a valid, never written slot).
	setup, err := smbwire.Dial(ctx, cfg.Addr, cfg.Share, cfg.User, cfg.Password, smbwire.Options{})
	if err != nil {
		return nil, fmt.Errorf("soak: connect: %w", err)
	}
	f, err := setup.Create(ctx, sharedName, shareAll(smb2.GenericRead|smb2.GenericWrite, smb2.FileOverwriteIf, 0))
	if err == nil {
		err = setup.Write(ctx, f, uint64(cfg.Slots*slotSize-1), []byte{0})
		err = errors.Join(err, setup.CloseFile(ctx, f))
	}
	setup.Close()
	if err != nil {
		return nil, fmt.Errorf("soak: shared file: %w", err)
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		wg.Go(func() { r.client(runCtx, i) })
	}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(cfg.SampleInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-stopSampling:
				return
			}
			s := sample()
			rep.Samples = append(rep.Samples, s)
			rep.Peak.Goroutines = max(rep.Peak.Goroutines, s.Goroutines)
			rep.Peak.HeapBytes = max(rep.Peak.HeapBytes, s.HeapBytes)
			log.Info("soak", "at", s.At.Round(time.Second), "goroutines", s.Goroutines, "heap", mib(s.HeapBytes), "errors", r.nerr.Load())
		}
	}()
	wg.Wait()
	close(stopSampling)
	<-sampled
	rep.Duration = time.Since(start)
	log.Info("soak: clients done", "after", rep.Duration)

	// Wait for the server to let go of the clients.
	deadline := time.Now().Add(cfg.SettleTimeout)
	for {
		rep.After = sample()
		rep.Settled = rep.After.Goroutines >= 0 && rep.After.Goroutines <= rep.Baseline.Goroutines
		if rep.Settled || rep.After.Goroutines < 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	rep.SettleTime = time.Since(start) - rep.Duration
	rep.Samples = append(rep.Samples, rep.After)
	if os.Getenv("SOAK_DUMP") != "" {
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
	}
	rep.Ops = r.ops
	rep.Errors = r.nerr.Load()
	rep.FirstErrors = r.errs
	rep.WrongBytes = r.wrongBytes.Load()
	return rep, nil
}

const sharedName = "soak-shared.bin"

// client runs one client's workload until ctx ends.
func (r *run) client(ctx context.Context, id int) {
	cfg := r.cfg
	// Connections are made with a context of their own: a client still
	// connecting when the run ends finishes connecting and leaves cleanly.
	setupCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d := &gosmb2.Dialer{Initiator: &gosmb2.NTLMInitiator{User: cfg.User, Password: cfg.Password}}
	sess, err := d.Dial(setupCtx, cfg.Addr)
	if err != nil {
		r.fail(id, fmt.Errorf("dial: %w", err))
		return
	}
	defer sess.Logoff()
	share, err := sess.Mount(`\\127.0.0.1\` + cfg.Share)
	if err != nil {
		r.fail(id, fmt.Errorf("mount: %w", err))
		return
	}
	defer share.Umount()
	w, err := smbwire.Dial(setupCtx, cfg.Addr, cfg.Share, cfg.User, cfg.Password, smbwire.Options{})
	if err != nil {
		r.fail(id, fmt.Errorf("wire connect: %w", err))
		return
	}
	defer w.Close()
	dir := fmt.Sprintf("c%d", id)
	if err := share.MkdirAll(dir, 0o755); err != nil {
		r.fail(id, fmt.Errorf("mkdir: %w", err))
		return
	}
	shared, err := w.Create(setupCtx, sharedName, shareAll(smb2.GenericRead|smb2.GenericWrite, smb2.FileOpen, 0))
	if err != nil {
		r.fail(id, err)
		return
	}
	r.count("connect", 1)

	rng := rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano())))
	c := &client{run: r, id: id, share: share, w: w, shared: shared, dir: dir, rng: rng}
	for ctx.Err() == nil {
		// Each step runs to its end with its own time limit: stopping a
		// step half way would leave a lock held or a file behind and count
		// as an error.
		stepCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var err error
		switch p := rng.IntN(100); {
		case p < 45:
			err = c.churn(stepCtx)
		case p < 80:
			err = c.sharedWrite(stepCtx)
		default:
			err = c.notify(stepCtx)
		}
		cancel()
		if err != nil {
			r.fail(id, err)
			if errors.Is(err, errConnLost) {
				return
			}
		}
	}
	closeCtx, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if err := w.CloseFile(closeCtx, shared); err != nil {
		r.fail(id, err)
	}
	if err := share.RemoveAll(dir); err != nil {
		r.fail(id, fmt.Errorf("remove %s: %w", dir, err))
	}
}

var errConnLost = errors.New("connection lost")

type client struct {
	*run
	id     int
	share  *gosmb2.Share
	w      *smbwire.Client
	shared smb2.FileID
	dir    string
	rng    *rand.Rand
	seq    uint64
}

// fill writes the deterministic bytes of (writer, seq) to b.
func fill(b []byte, writer uint32, seq uint64) {
	x := uint64(writer)<<40 ^ seq*0x9E3779B97F4A7C15 ^ 0x5EED
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
}

// churn writes a file, reads it back, stats, renames, lists and deletes it.
func (c *client) churn(ctx context.Context) error {
	sh := c.share.WithContext(ctx)
	c.seq++
	data := make([]byte, 1+c.rng.IntN(c.cfg.MaxFileSize))
	fill(data, uint32(c.id), c.seq)
	name := fmt.Sprintf("%s/f%d", c.dir, c.seq)
	if err := sh.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	c.count("write", 1)
	got, err := sh.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	c.count("read", 1)
	if !bytes.Equal(got, data) {
		c.wrong(c.id, "read back "+name, got, data)
	}
	fi, err := sh.Stat(name)
	if err != nil {
		return fmt.Errorf("stat %s: %w", name, err)
	}
	c.count("stat", 1)
	if fi.Size() != int64(len(data)) {
		return fmt.Errorf("stat %s: size %d, wrote %d", name, fi.Size(), len(data))
	}
	renamed := name + ".renamed"
	if err := sh.Rename(name, renamed); err != nil {
		return fmt.Errorf("rename %s: %w", name, err)
	}
	c.count("rename", 1)
	list, err := sh.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.dir, err)
	}
	c.count("list", 1)
	var seen, stale bool
	for _, e := range list {
		seen = seen || e.Name() == renamed[len(c.dir)+1:]
		stale = stale || e.Name() == name[len(c.dir)+1:]
	}
	if !seen || stale {
		return fmt.Errorf("list %s after rename: new name listed %v, old name listed %v", c.dir, seen, stale)
	}
	got, err = sh.ReadFile(renamed)
	if err != nil {
		return fmt.Errorf("read %s: %w", renamed, err)
	}
	c.count("read", 1)
	if !bytes.Equal(got, data) {
		c.wrong(c.id, "read after rename "+renamed, got, data)
	}
	if err := sh.Remove(renamed); err != nil {
		return fmt.Errorf("delete %s: %w", renamed, err)
	}
	c.count("delete", 1)
	if _, err := sh.Stat(renamed); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat %s after delete: %v, want not found", renamed, err)
	}
	c.count("stat", 1)
	return nil
}

const stampMagic = "SOAKSLOT"

// stamp is one slot written by writer as its seq-th write: a 24-byte
// header, then fill's bytes.
func stamp(writer uint32, seq uint64) []byte {
	b := make([]byte, slotSize)
	copy(b, stampMagic)
	binary.LittleEndian.PutUint32(b[8:], writer)
	binary.LittleEndian.PutUint64(b[16:], seq)
	fill(b[24:], writer, seq)
	return b
}

// checkSlot returns what slot b should hold given its header: all zeros if
// never written, else the stamp its header names.
func checkSlot(b []byte) []byte {
	if string(b[:len(stampMagic)]) != stampMagic {
		return make([]byte, slotSize)
	}
	return stamp(binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint64(b[16:]))
}

// sharedWrite locks a run of slots of the shared file (waiting for other
// clients' locks), checks them, stamps them, reads them back and unlocks.
func (c *client) sharedWrite(ctx context.Context) error {
	n := 1 + c.rng.IntN(3)
	first := c.rng.IntN(c.cfg.Slots - n + 1)
	off, length := uint64(first*slotSize), uint64(n*slotSize)
	waited, err := c.w.Lock(ctx, c.shared, off, length, smb2.LockFlagExclusive)
	if err != nil {
		return c.wireErr("lock", err)
	}
	c.count("lock", 1)
	if waited {
		c.count("lock-wait", 1) // granted after STATUS_PENDING
	}
	err = c.stampSlots(ctx, off, n)
	if _, uerr := c.w.Lock(ctx, c.shared, off, length, smb2.LockFlagUnlock); uerr != nil {
		err = errors.Join(err, c.wireErr("unlock", uerr))
	} else {
		c.count("unlock", 1)
	}
	return err
}

func (c *client) stampSlots(ctx context.Context, off uint64, n int) error {
	cur, err := c.w.Read(ctx, c.shared, off, uint32(n*slotSize))
	if err != nil {
		return c.wireErr("read shared", err)
	}
	c.count("shared-read", 1)
	if len(cur) != n*slotSize {
		c.wrong(c.id, "shared file length", cur, make([]byte, n*slotSize))
		return nil
	}
	for i := range n {
		s := cur[i*slotSize : (i+1)*slotSize]
		if want := checkSlot(s); !bytes.Equal(s, want) {
			c.wrong(c.id, fmt.Sprintf("shared slot %d before write", int(off)/slotSize+i), s, want)
		}
	}
	var buf []byte
	for range n {
		c.seq++
		buf = append(buf, stamp(uint32(c.id), c.seq)...)
	}
	if err := c.w.Write(ctx, c.shared, off, buf); err != nil {
		return c.wireErr("write shared", err)
	}
	c.count("shared-write", 1)
	got, err := c.w.Read(ctx, c.shared, off, uint32(len(buf)))
	if err != nil {
		return c.wireErr("read shared", err)
	}
	c.count("shared-read", 1)
	if !bytes.Equal(got, buf) {
		c.wrong(c.id, fmt.Sprintf("shared slots %d+%d read back", int(off)/slotSize, n), got, buf)
	}
	return nil
}

// notify watches the client's directory, creates a file in it and expects
// the watch to name the file.
func (c *client) notify(ctx context.Context) error {
	d, err := c.w.Create(ctx, c.dir, shareAll(smb2.GenericRead, smb2.FileOpen, smb2.FileDirectoryFile))
	if err != nil {
		return c.wireErr("open dir", err)
	}
	defer c.w.CloseFile(ctx, d)
	const fileName = 0x1 // FILE_NOTIFY_CHANGE_FILE_NAME (MS-SMB2 2.2.35)
	call, err := c.w.Notify(d, fileName)
	if err != nil {
		return c.wireErr("notify", err)
	}
	// Change the directory only once the watch is registered.
	select {
	case <-call.Interim():
	case <-ctx.Done():
		return ctx.Err()
	}
	c.seq++
	name := fmt.Sprintf("n%d", c.seq)
	f, err := c.w.Create(ctx, c.dir+`\`+name, shareAll(smb2.GenericAll, smb2.FileCreate, 0))
	if err != nil {
		return c.wireErr("create", err)
	}
	if err := c.w.CloseFile(ctx, f); err != nil {
		return c.wireErr("close", err)
	}
	r, err := call.Wait(ctx)
	if err != nil {
		return c.wireErr("notify", err)
	}
	names, err := smbwire.NotifyNames(r.Msg)
	if err != nil {
		return err
	}
	c.count("notify", 1)
	if !slices.Contains(names, name) {
		return fmt.Errorf("notify on %s: got %q, want %s", c.dir, names, name)
	}
	if err := c.share.WithContext(ctx).Remove(c.dir + "/" + name); err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	c.count("delete", 1)
	return nil
}

func (c *client) wireErr(what string, err error) error {
	if es := (smbwire.StatusError{}); errors.As(err, &es) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w (%w)", what, errConnLost, err)
}

// shareAll is a CREATE that shares everything, as the soak's opens do.
func shareAll(access, disposition, options uint32) smbwire.CreateRequest {
	return smbwire.CreateRequest{Access: access, Share: smbwire.ShareAll, Disposition: disposition, Options: options}
}
