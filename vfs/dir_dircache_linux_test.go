package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// dirCacheFS is a Dir whose lookups go through its kept directories.
func dirCacheFS(t *testing.T) (*DirFS, string) {
	t.Helper()
	root := t.TempDir()
	d, err := Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if d.dirs == nil || openat2Missing.Load() {
		t.Skip("no openat2: lookups do not use kept directories")
	}
	return d, root
}

func mustWrite(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(name, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kept reports whether the directory dir is kept open.
func (c *dirCache) kept(dir string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[dir] != nil
}

// A directory kept open that is renamed, removed or replaced, through Dir
// or behind its back, is not used for its old name: lookups, creates and
// removals land in the directory the name names now.
func TestDirCacheSeesRenamedDirectories(t *testing.T) {
	d, root := dirCacheFS(t)
	ctx := context.Background()
	if err := os.Mkdir(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "a", "f"))
	if _, err := d.Stat(ctx, "a/f"); err != nil {
		t.Fatal(err)
	}
	if !d.dirs.kept("a") {
		t.Fatal(`"a" is not kept open after a lookup in it`)
	}

	// Renamed behind the server's back, a new "a" made in its place.
	if err := os.Rename(filepath.Join(root, "a"), filepath.Join(root, "b")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "a", "g"))
	if _, err := d.Stat(ctx, "a/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(`Stat("a/f") after "a" moved: %v, want not found`, err)
	}
	if _, err := d.Stat(ctx, "a/g"); err != nil {
		t.Errorf(`Stat("a/g") in the new "a": %v`, err)
	}
	if _, err := d.Stat(ctx, "b/f"); err != nil {
		t.Errorf(`Stat("b/f"): %v`, err)
	}
	f, err := d.OpenFile(ctx, "a/h", O_RDWR|O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(root, "a", "h")); err != nil {
		t.Errorf("the create did not land in the new directory: %v", err)
	}
	if err := d.Remove(ctx, "a/g"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "a", "g")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the removal did not land in the new directory: %v", err)
	}

	// Removed and made again behind the server's back.
	if err := os.RemoveAll(filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, "a/h"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(`Stat("a/h") after "a" was removed: %v, want not found`, err)
	}
	if err := os.Mkdir(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "a", "k"))
	if err := d.Remove(ctx, "a/k"); err != nil {
		t.Errorf(`Remove("a/k") in the remade "a": %v`, err)
	}

	// Renamed through Dir: the old name no longer finds it, the new one does.
	mustWrite(t, filepath.Join(root, "a", "m"))
	if _, err := d.Stat(ctx, "a/m"); err != nil {
		t.Fatal(err)
	}
	if err := d.Rename(ctx, "a", "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, "a/m"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(`Stat("a/m") after Rename("a", "c"): %v, want not found`, err)
	}
	if err := d.Remove(ctx, "c/m"); err != nil {
		t.Errorf(`Remove("c/m"): %v`, err)
	}

	// Removed through Dir: its entry goes at once.
	if _, err := d.Stat(ctx, "c/none"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf(`Stat("c/none"): %v`, err)
	}
	if !d.dirs.kept("c") {
		t.Fatal(`"c" is not kept open after a lookup in it`)
	}
	if err := d.Remove(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if d.dirs.kept("c") {
		t.Error(`"c" is still kept open after its removal`)
	}
}

// A kept directory replaced by a symbolic link, or moved outside the root,
// never leads outside: the name is refused or not found, and nothing
// outside is read or removed.
func TestDirCacheConfined(t *testing.T) {
	d, root := dirCacheFS(t)
	ctx := context.Background()
	outside := t.TempDir()
	mustWrite(t, filepath.Join(outside, "secret"))
	if err := os.Mkdir(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "a", "secret"))
	if _, err := d.Stat(ctx, "a/secret"); err != nil {
		t.Fatal(err)
	}

	// "a" becomes a link to outside.
	if err := os.Rename(filepath.Join(root, "a"), filepath.Join(root, "old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, "a/secret"); err == nil {
		t.Error("a name through a link to outside was found")
	}
	if err := d.Remove(ctx, "a/secret"); err == nil {
		t.Error("a name through a link to outside was removed")
	}
	if _, err := d.SecurityDescriptor(ctx, "a/secret"); err == nil {
		t.Error("a descriptor was read through a link to outside")
	}
	if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
		t.Fatalf("the file outside is gone: %v", err)
	}
	if d.dirs.kept("a") {
		t.Error("a symbolic link is kept open as a directory")
	}

	// A kept directory moved outside the root.
	if _, err := d.Stat(ctx, "old/secret"); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(outside, "moved")
	if err := os.Rename(filepath.Join(root, "old"), moved); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, "old/secret"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(`Stat("old/secret") after "old" moved outside: %v, want not found`, err)
	}
	if err := d.Remove(ctx, "old/secret"); err == nil {
		t.Error("a file of a directory moved outside was removed")
	}
	if _, err := os.Stat(filepath.Join(moved, "secret")); err != nil {
		t.Fatalf("the file moved outside is gone: %v", err)
	}

	// A link inside the root still resolves, as openat2 resolves it,
	// without being kept.
	if err := os.Mkdir(filepath.Join(root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "in", "f"))
	if err := os.Symlink("in", filepath.Join(root, "l")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(ctx, "l/f"); err != nil {
		t.Errorf(`Stat("l/f") through a link inside the root: %v`, err)
	}
	if d.dirs.kept("l") {
		t.Error("a symbolic link is kept open as a directory")
	}
}

// Deep paths resolve as before, only the first levels are kept, the
// number kept is bounded, and Close releases every descriptor.
func TestDirCacheBounded(t *testing.T) {
	before := openFDs(t)
	root := t.TempDir()
	d, err := Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	if d.dirs == nil || openat2Missing.Load() {
		d.Close()
		t.Skip("no openat2: lookups do not use kept directories")
	}
	ctx := context.Background()
	deep := filepath.Join(root, "a", "b", "c", "d")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(deep, "f"))
	if _, err := d.Stat(ctx, "a/b/c/d/f"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(root, "a", "b", "f"))
	if _, err := d.Stat(ctx, "a/b/f"); err != nil {
		t.Fatal(err)
	}
	if !d.dirs.kept("a") || !d.dirs.kept("a/b") || d.dirs.kept("a/b/c") || d.dirs.kept("a/b/c/d") {
		t.Errorf("kept: a %v, a/b %v, a/b/c %v, a/b/c/d %v; want the first two levels only",
			d.dirs.kept("a"), d.dirs.kept("a/b"), d.dirs.kept("a/b/c"), d.dirs.kept("a/b/c/d"))
	}
	for i := range dirCacheMax + 20 {
		dir := fmt.Sprintf("d%03d", i)
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, filepath.Join(root, dir, "f"))
		if _, err := d.Stat(ctx, dir+"/f"); err != nil {
			t.Fatal(err)
		}
	}
	d.dirs.mu.Lock()
	n := len(d.dirs.m)
	d.dirs.mu.Unlock()
	if n > dirCacheMax {
		t.Errorf("%d directories kept, want at most %d", n, dirCacheMax)
	}
	// The ones evicted, and those still kept, still serve their names.
	for i := range dirCacheMax + 20 {
		if err := d.Remove(ctx, fmt.Sprintf("d%03d/f", i)); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	if after := openFDs(t); after > before {
		t.Errorf("%d descriptors open after Close, %d before", after, before)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// Lookups, creates and removals under kept directories race with their
// renames and removals without a descriptor used after its close (go test
// -race; a closed descriptor reused by another open would show as a file
// in the wrong directory).
func TestDirCacheConcurrent(t *testing.T) {
	d, root := dirCacheFS(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := fmt.Sprintf("w%d", w)
			for i := range 200 {
				os.Mkdir(filepath.Join(root, dir), 0o755)
				name := fmt.Sprintf("%s/f%d", dir, i)
				f, err := d.OpenFile(ctx, name, O_RDWR|O_CREATE, 0o644)
				if err == nil {
					f.Close()
				}
				d.Stat(ctx, name)
				d.Remove(ctx, name)
				if i%10 == 0 {
					d.Rename(ctx, dir, dir+"x")
					os.RemoveAll(filepath.Join(root, dir+"x"))
				}
			}
		}()
	}
	wg.Wait()
	// Nothing was created where no name asked for it.
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." || e.IsDir() {
			return nil
		}
		dir := filepath.Dir(rel)
		if filepath.Dir(dir) != "." || len(dir) != 2 || dir[0] != 'w' {
			t.Errorf("unexpected file %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
