package latencyfs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cifsd/cifsd/internal/latencyfs"
	"github.com/cifsd/cifsd/vfs"
	"github.com/cifsd/cifsd/vfs/vfstest"
)

// The wrapper behaves as the backend it wraps.
func TestConformance(t *testing.T) {
	vfstest.TestFS(t, func(t *testing.T) vfs.FS { return latencyfs.New(vfs.NewMem(), time.Microsecond) })
}

// Wrapping Mem keeps its optional interfaces, on the FS and on open files,
// and Unwrap reaches Mem itself.
func TestKeepsCapabilities(t *testing.T) {
	mem := vfs.NewMem()
	fsys := latencyfs.New(mem, 0)
	checks := map[string]bool{}
	_, checks["StatFSer"] = fsys.(vfs.StatFSer)
	_, checks["NameLister"] = fsys.(vfs.NameLister)
	_, checks["Linker"] = fsys.(vfs.Linker)
	_, checks["EAer"] = fsys.(vfs.EAer)
	_, checks["Streamer"] = fsys.(vfs.Streamer)
	_, checks["AttrStore"] = fsys.(vfs.AttrStore)
	_, checks["SDStore"] = fsys.(vfs.SDStore)
	_, checks["Sparser"] = fsys.(vfs.Sparser)
	f, err := fsys.OpenFile(context.Background(), "a", vfs.O_RDWR|vfs.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, checks["ModTimeSetter"] = f.(vfs.ModTimeSetter)
	_, checks["HolePuncher"] = f.(vfs.HolePuncher)
	_, checks["DataRanger"] = f.(vfs.DataRanger)
	for name, ok := range checks {
		if !ok {
			t.Errorf("wrapped Mem lost %s", name)
		}
	}
	u, ok := fsys.(interface{ Unwrap() vfs.FS })
	if !ok || u.Unwrap() != vfs.FS(mem) {
		t.Errorf("Unwrap does not return the wrapped Mem")
	}
	// What Mem does not have, the wrapper does not claim.
	if _, ok := fsys.(vfs.Watcher); ok {
		t.Errorf("wrapper claims Watcher, which Mem lacks")
	}
}

// A backend with only vfs.FS's methods gets a wrapper without the optional
// interfaces, which must not claim what it cannot forward.
func TestPlainBackend(t *testing.T) {
	fsys := latencyfs.New(plain{vfs.NewMem()}, 0)
	if _, ok := fsys.(vfs.EAer); ok {
		t.Errorf("wrapper of a plain FS claims EAer")
	}
	if u, ok := fsys.(interface{ Unwrap() vfs.FS }); !ok || u.Unwrap() == nil {
		t.Errorf("no Unwrap on the plain wrapper")
	}
}

type plain struct{ vfs.FS }

// Every call waits the delay; a cancelled context ends the wait.
func TestDelay(t *testing.T) {
	const d = 20 * time.Millisecond
	fsys := latencyfs.New(vfs.NewMem(), d)
	start := time.Now()
	if err := fsys.Mkdir(context.Background(), "d", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(context.Background(), "d"); err != nil {
		t.Fatal(err)
	}
	if got := time.Since(start); got < 2*d {
		t.Errorf("two calls took %v, want at least %v", got, 2*d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fsys.Stat(ctx, "d"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with a cancelled context: %v, want context.Canceled", err)
	}
}

// Calls counts the calls of the FS and of its open files.
func TestCalls(t *testing.T) {
	fsys := latencyfs.New(vfs.NewMem(), 0)
	ctx := context.Background()
	f, err := fsys.OpenFile(ctx, "a", vfs.O_RDWR|vfs.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := fsys.(vfs.NameLister).ReadDirNames(ctx, "."); err != nil {
		t.Fatal(err)
	}
	if got := fsys.(latencyfs.Counter).Calls(); got != 4 {
		t.Errorf("Calls() = %d after OpenFile, Stat, Close and ReadDirNames, want 4", got)
	}
}
