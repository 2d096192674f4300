package soak

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// A short soak against the OS-directory backend with the server's
// defaults: every byte read back is the byte written, no operation fails,
// and once the clients leave the server's goroutines return to their
// count before the run. SOAK_DURATION and SOAK_CLIENTS lengthen it.
func TestSoakShort(t *testing.T) {
	dur, clients := 30*time.Second, 16
	if testing.Short() {
		dur, clients = 3*time.Second, 6
	}
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	fsys, err := vfs.Dir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := srv.Config()
	cfg.Clients, cfg.Duration = clients, dur
	cfg.SettleTimeout = time.Minute
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if rep.Errors != 0 || rep.WrongBytes != 0 {
		t.Fatalf("%d errors, %d wrong bytes: %q", rep.Errors, rep.WrongBytes, rep.FirstErrors)
	}
	for _, k := range []string{"write", "read", "rename", "list", "delete", "lock", "shared-write", "notify"} {
		if rep.Ops[k] == 0 {
			t.Errorf("no %s operation done", k)
		}
	}
	if !rep.Settled {
		t.Fatalf("server goroutines %d after the run, %d before", rep.After.Goroutines, rep.Baseline.Goroutines)
	}
}
