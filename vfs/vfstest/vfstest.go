// Package vfstest is a conformance suite for vfs.FS backends: every backend
// passes it, so the server can rely on the same behaviour from each.
package vfstest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// TestFS runs the suite against file systems made by newFS, one per subtest.
func TestFS(t *testing.T, newFS func(t *testing.T) vfs.FS) {
	t.Run("TruncateHole", func(t *testing.T) {
		// A file grown by Truncate alone and then shrunk (no data ever
		// written) reads as zeros.
		fsys := newFS(t)
		f, err := fsys.OpenFile(t.Context(), "h", vfs.O_RDWR|vfs.O_CREATE|vfs.O_EXCL, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(37); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(7); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8)
		if n, _ := f.ReadAt(buf, 0); n != 7 || !bytes.Equal(buf[:7], make([]byte, 7)) {
			t.Fatalf("read %d bytes %q", n, buf[:n])
		}
	})
	t.Run("CreateReadWrite", func(t *testing.T) {
		fsys := newFS(t)
		ctx := t.Context()
		f, err := fsys.OpenFile(ctx, "a", vfs.O_RDWR|vfs.O_CREATE|vfs.O_EXCL, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.OpenFile(ctx, "a", vfs.O_RDWR|vfs.O_CREATE|vfs.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("exclusive create of an existing file: %v", err)
		}
		if _, err := f.WriteAt([]byte("hello"), 100); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 110)
		n, err := f.ReadAt(buf, 0)
		if n != 105 || !errors.Is(err, io.EOF) {
			t.Fatalf("read %d, %v; want 105, EOF", n, err)
		}
		if !bytes.Equal(buf[:100], make([]byte, 100)) || string(buf[100:105]) != "hello" {
			t.Fatal("hole does not read as zeros or data wrong")
		}
		if n, err := f.ReadAt(buf, 105); n != 0 || !errors.Is(err, io.EOF) {
			t.Fatalf("read at EOF: %d, %v", n, err)
		}
		if err := f.Truncate(3); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(10); err != nil {
			t.Fatal(err)
		}
		n, _ = f.ReadAt(buf[:10], 0)
		if n != 10 || !bytes.Equal(buf[3:10], make([]byte, 7)) {
			t.Fatalf("extension after truncate is not zeros: %q", buf[:10])
		}
		fi, err := f.Stat()
		if err != nil || fi.Size() != 10 {
			t.Fatalf("size %v, %v", fi, err)
		}
		f.Close()
		g, err := fsys.OpenFile(ctx, "a", vfs.O_RDWR|vfs.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fi, _ := g.Stat(); fi.Size() != 0 {
			t.Fatal("O_TRUNC kept data")
		}
		g.Close()
	})
	t.Run("Concurrent", func(t *testing.T) {
		fsys := newFS(t)
		f, err := fsys.OpenFile(t.Context(), "c", vfs.O_RDWR|vfs.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := bytes.Repeat([]byte{byte(i)}, 4096)
				f.WriteAt(b, int64(i)*4096)
				f.ReadAt(make([]byte, 4096), int64((i+1)%8)*4096)
			}()
		}
		wg.Wait()
		b := make([]byte, 4096)
		for i := 0; i < 8; i++ {
			f.ReadAt(b, int64(i)*4096)
			if b[0] != byte(i) || b[4095] != byte(i) {
				t.Fatalf("block %d corrupted", i)
			}
		}
	})
	t.Run("Namespace", func(t *testing.T) {
		fsys := newFS(t)
		ctx := t.Context()
		if err := fsys.Mkdir(ctx, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Mkdir(ctx, "d", 0o755); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("mkdir twice: %v", err)
		}
		if _, err := fsys.OpenFile(ctx, "d", vfs.O_RDONLY, 0); !errors.Is(err, vfs.ErrIsDir) {
			t.Fatalf("open of a directory: %v", err)
		}
		for _, n := range []string{"d/x", "d/y"} {
			f, err := fsys.OpenFile(ctx, n, vfs.O_RDWR|vfs.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		list, err := fsys.ReadDir(ctx, "d")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, fi := range list {
			names = append(names, fi.Name())
		}
		sort.Strings(names)
		if len(names) != 2 || names[0] != "x" || names[1] != "y" {
			t.Fatalf("readdir %v", names)
		}
		if err := fsys.Remove(ctx, "d"); !errors.Is(err, vfs.ErrNotEmpty) {
			t.Fatalf("remove of a non-empty dir: %v", err)
		}
		idBefore := mustStat(t, fsys, "d/x")
		if err := fsys.Rename(ctx, "d/x", "d/y"); err != nil {
			t.Fatalf("rename over a file: %v", err)
		}
		if _, err := fsys.Stat(ctx, "d/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("old name remains: %v", err)
		}
		if id := vfs.FileIDOf(mustStatInfo(t, fsys, "d/y")); idBefore != 0 && id != idBefore {
			t.Fatal("file id changed across rename")
		}
		if err := fsys.Rename(ctx, "d", "e"); err != nil {
			t.Fatalf("rename dir: %v", err)
		}
		if _, err := fsys.Stat(ctx, "e/y"); err != nil {
			t.Fatalf("file under renamed dir: %v", err)
		}
		if _, err := fsys.Stat(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("stat missing: %v", err)
		}
		if err := fsys.Remove(ctx, "e/y"); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Remove(ctx, "e"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Chtimes", func(t *testing.T) {
		fsys := newFS(t)
		ctx := t.Context()
		f, _ := fsys.OpenFile(ctx, "t", vfs.O_RDWR|vfs.O_CREATE, 0o644)
		f.Close()
		when := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
		if err := fsys.Chtimes(ctx, "t", time.Time{}, when); err != nil {
			t.Fatal(err)
		}
		fi := mustStatInfo(t, fsys, "t")
		if !fi.ModTime().Equal(when) {
			t.Fatalf("mtime %v, want %v", fi.ModTime(), when)
		}
	})
	t.Run("ReadDirPage", func(t *testing.T) {
		// Paged (vfs.DirPager, or the fallback), a directory lists what
		// ReadDir lists, each name once, and a cursor survives the removal
		// of its entry and the addition of others.
		fsys := newFS(t)
		ctx := t.Context()
		if err := fsys.Mkdir(ctx, "d", 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			f, err := fsys.OpenFile(ctx, "d/"+string(rune('a'+i%26))+string(rune('a'+i/26)), vfs.O_RDWR|vfs.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		if err := fsys.Mkdir(ctx, "d/sub", 0o755); err != nil {
			t.Fatal(err)
		}
		list, err := fsys.ReadDir(ctx, "d")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, fi := range list {
			want[fi.Name()] = fi.IsDir()
		}
		got := map[string]bool{}
		after := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("paging never ends")
			}
			page, err := vfs.ReadDirPage(ctx, fsys, "d", after, 4)
			if len(page) > 4 {
				t.Fatalf("%d entries in a page of 4", len(page))
			}
			for _, e := range page {
				if _, dup := got[e.Info.Name()]; dup {
					t.Fatalf("%s listed twice", e.Info.Name())
				}
				got[e.Info.Name()] = e.Info.IsDir()
				after = e.Cursor
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if pages == 2 {
				// The entry at the cursor goes, another comes.
				if err := fsys.Remove(ctx, "d/"+page[len(page)-1].Info.Name()); err != nil {
					t.Fatal(err)
				}
				delete(want, page[len(page)-1].Info.Name())
			}
		}
		for name, dir := range want {
			if g, ok := got[name]; !ok || g != dir {
				t.Errorf("%s (dir %v) paged as %v, %v", name, dir, g, ok)
			}
		}
	})
}

func mustStatInfo(t *testing.T, fsys vfs.FS, name string) fs.FileInfo {
	t.Helper()
	fi, err := fsys.Stat(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func mustStat(t *testing.T, fsys vfs.FS, name string) uint64 {
	return vfs.FileIDOf(mustStatInfo(t, fsys, name))
}
