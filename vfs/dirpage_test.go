package vfs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"

	"github.com/spf13/afero"

	"github.com/cifsd/cifsd/vfs"
)

// pageAll reads the directory name a page of n at a time from the cursor
// after, calling between after each page; it returns the names seen.
func pageAll(t *testing.T, fsys vfs.FS, name string, n int, between func()) []string {
	t.Helper()
	ctx := context.Background()
	var names []string
	after := ""
	for i := 0; i < 10000; i++ {
		page, err := vfs.ReadDirPage(ctx, fsys, name, after, n)
		if len(page) > n {
			t.Fatalf("page of %d entries, asked for %d", len(page), n)
		}
		for _, e := range page {
			names = append(names, e.Info.Name())
			after = e.Cursor
		}
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		if between != nil {
			between()
		}
	}
	t.Fatal("listing never ended")
	return nil
}

// Every backend pages through a directory: every entry once, removed ones
// after the cursor not returned, whether or not a wrapper hides it.
func TestReadDirPage(t *testing.T) {
	backends := map[string]func(t *testing.T) vfs.FS{
		"mem": func(t *testing.T) vfs.FS { return vfs.NewMem() },
		"dir": func(t *testing.T) vfs.FS {
			d, err := vfs.Dir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return d
		},
		"afero": func(t *testing.T) vfs.FS {
			return vfs.Afero(afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()))
		},
		"wrapped mem": func(t *testing.T) vfs.FS { return unwrapper{vfs.NewMem()} },
	}
	for bname, mk := range backends {
		t.Run(bname, func(t *testing.T) {
			fsys := mk(t)
			ctx := context.Background()
			if err := fsys.Mkdir(ctx, "d", 0o755); err != nil {
				t.Fatal(err)
			}
			const total = 200
			for i := range total {
				f, err := fsys.OpenFile(ctx, fmt.Sprintf("d/f%03d", i), vfs.O_RDWR|vfs.O_CREATE, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			for _, n := range []int{1, 7, 1000} {
				got := pageAll(t, fsys, "d", n, nil)
				seen := map[string]bool{}
				for _, s := range got {
					if seen[s] {
						t.Fatalf("n=%d: %s listed twice", n, s)
					}
					seen[s] = true
				}
				if len(seen) != total {
					t.Fatalf("n=%d: %d names listed, want %d", n, len(seen), total)
				}
			}
			// Remove every name once listing has started: those not yet
			// listed are not listed.
			removed := false
			got := pageAll(t, fsys, "d", 10, func() {
				if removed {
					return
				}
				removed = true
				for i := range total {
					fsys.Remove(ctx, fmt.Sprintf("d/f%03d", i))
				}
			})
			if len(got) != 10 {
				t.Fatalf("%d names listed after all were removed at the 10th, want 10", len(got))
			}
			if _, err := vfs.ReadDirPage(ctx, fsys, "nope", "", 5); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("paging a missing directory: %v", err)
			}
		})
	}
}

// unwrapper wraps an FS and has an Unwrap method and nothing else.
type unwrapper struct{ vfs.FS }

func (u unwrapper) Unwrap() vfs.FS { return u.FS }

func TestAsUnwraps(t *testing.T) {
	var fsys vfs.FS = unwrapper{unwrapper{vfs.NewMem()}}
	if _, ok := fsys.(vfs.Linker); ok {
		t.Fatal("the wrapper itself has Link")
	}
	for name, ok := range map[string]bool{
		"Linker":   as[vfs.Linker](fsys),
		"DirPager": as[vfs.DirPager](fsys),
		"EAer":     as[vfs.EAer](fsys),
		"Streamer": as[vfs.Streamer](fsys),
		"StatFSer": as[vfs.StatFSer](fsys),
	} {
		if !ok {
			t.Errorf("As does not find %s through two wrappers", name)
		}
	}
	if as[vfs.Watcher](unwrapper{vfs.NewMem()}) {
		t.Error("As finds a Watcher Mem does not have")
	}
	if as[vfs.Linker](selfWrapper{vfs.NewMem()}) {
		t.Error("As finds Linker through a wrapper whose Unwrap returns itself")
	}
}

func as[T any](fsys vfs.FS) bool { _, ok := vfs.As[T](fsys); return ok }

// selfWrapper's Unwrap returns itself: As must not loop.
type selfWrapper struct{ vfs.FS }

func (s selfWrapper) Unwrap() vfs.FS { return s }
