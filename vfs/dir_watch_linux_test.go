//go:build linux

package vfs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Changes made to a Dir's directory by another program are reported:
// a new file, a new file in a new subdirectory, a rename, a removal.
func TestDirWatchReportsOutsideChanges(t *testing.T) {
	root := t.TempDir()
	d, err := Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got := make(chan Change, 64)
	w, err := d.Watch(func(cs []Change) {
		for _, c := range cs {
			got <- c
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := func(op ChangeOp, name string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case c := <-got:
				if c.Op == op && c.Name == name {
					return
				}
			case <-deadline:
				t.Fatalf("no change %d on %q", op, name)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	want(ChangeAdded, "a.txt")
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	want(ChangeAdded, "sub")
	time.Sleep(50 * time.Millisecond) // the new directory's watch is set up
	if err := os.WriteFile(filepath.Join(root, "sub", "b.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	want(ChangeAdded, "sub/b.txt")
	if err := os.Rename(filepath.Join(root, "a.txt"), filepath.Join(root, "c.txt")); err != nil {
		t.Fatal(err)
	}
	want(ChangeRenamedFrom, "a.txt")
	want(ChangeRenamedTo, "c.txt")
	if err := os.Remove(filepath.Join(root, "c.txt")); err != nil {
		t.Fatal(err)
	}
	want(ChangeRemoved, "c.txt")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
