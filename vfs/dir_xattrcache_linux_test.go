package vfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cacheDir is a Dir on a file system xattrCache serves (tmpfs first), its
// settle margin shortened for the test.
func cacheDir(t *testing.T) (*DirFS, string) {
	t.Helper()
	old := xattrCacheSettle
	xattrCacheSettle = 30 * time.Millisecond // above a clock tick (10 ms at HZ=100)
	t.Cleanup(func() { xattrCacheSettle = old })
	root := t.TempDir()
	if _, err := os.Stat("/dev/shm"); err == nil {
		if r, err := os.MkdirTemp("/dev/shm", "vfs-xc"); err == nil {
			t.Cleanup(func() { os.RemoveAll(r) })
			root = r
		}
	}
	d, err := Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if d.xc == nil {
		t.Skip("the temporary directories' file system keeps no xattr cache")
	}
	return d, root
}

// listAll lists dir whole through ReadDirPage, by name.
func listAll(t *testing.T, d *DirFS, dir string) map[string]*dirInfo {
	t.Helper()
	out := map[string]*dirInfo{}
	cursor := ""
	for {
		page, err := d.ReadDirPage(context.Background(), dir, cursor, 7)
		for _, e := range page {
			out[e.Info.Name()] = e.Info.(*dirInfo)
			cursor = e.Cursor
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// What Dir remembers of its files' xattrs (the stored attributes, the
// EAs, the security descriptor) is what a listing and a Stat report until
// the file changes, and a change is seen at once, made through Dir or
// not: a listing or a CREATE never answers with a file's old attributes,
// EAs or descriptor.
func TestDirXattrCacheSeesChanges(t *testing.T) {
	ctx := context.Background()
	d, root := cacheDir(t)
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 20
	names := make([]string, n)
	for i := range names {
		names[i] = "d/f" + string(rune('a'+i))
		f, err := d.OpenFile(ctx, names[i], O_RDWR|O_CREATE|O_EXCL, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := d.SetAttrs(ctx, names[i], Attrs{FileAttributes: 0x20}); err != nil {
			t.Fatal(err)
		}
		if err := d.SetSecurityDescriptor(ctx, names[i], []byte("sd-one")); err != nil {
			t.Fatal(err)
		}
		if err := d.SetEA(ctx, names[i], EA{Name: "E", Value: []byte("v1")}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(3 * xattrCacheSettle) // the files' ctimes settle: their reads are kept

	check := func(when string, attrs uint32, sd, ea string) {
		t.Helper()
		list := listAll(t, d, "d")
		for _, name := range names {
			fi, err := d.Stat(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := d.OpenFile(ctx, name, O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			ofi, err := f.Stat()
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			for how, i := range map[string]*dirInfo{"listing": list[filepath.Base(name)], "Stat": fi.(*dirInfo), "open Stat": ofi.(*dirInfo)} {
				if i == nil {
					t.Fatalf("%s: %s not listed", when, name)
				}
				if a, ok := i.FileAttributes(); !ok || a != attrs {
					t.Errorf("%s: %s %s: attributes %#x, %v; want %#x", when, how, name, a, ok, attrs)
				}
				if how == "open Stat" {
					continue // reports no EAs nor descriptor
				}
				if eas, ok := i.ExtendedAttributes(); !ok || len(eas) != 1 || string(eas[0].Value) != ea {
					t.Errorf("%s: %s %s: EAs %q, %v; want E=%s", when, how, name, eas, ok, ea)
				}
				if how == "listing" {
					continue // reads no descriptor
				}
				if b, ok := i.StoredSecurityDescriptor(d); !ok || !bytes.Equal(b, []byte(sd)) {
					t.Errorf("%s: %s %s: descriptor %q, %v; want %q", when, how, name, b, ok, sd)
				}
			}
		}
	}
	check("first reads", 0x20, "sd-one", "v1")
	kept := 0
	for _, name := range names {
		var stx unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, filepath.Join(root, name), unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx); err != nil {
			t.Fatal(err)
		}
		if d.xc.get(&stx) != nil {
			kept++
		}
	}
	if kept != n {
		t.Fatalf("%d files' xattr reads kept, want %d", kept, n)
	}
	check("served from the cache", 0x20, "sd-one", "v1")

	// Changes through Dir, at once after the reads.
	for _, name := range names {
		if err := d.SetAttrs(ctx, name, Attrs{FileAttributes: 0x21}); err != nil {
			t.Fatal(err)
		}
		if err := d.SetSecurityDescriptor(ctx, name, []byte("sd-two")); err != nil {
			t.Fatal(err)
		}
		if err := d.SetEA(ctx, name, EA{Name: "E", Value: []byte("v2")}); err != nil {
			t.Fatal(err)
		}
	}
	check("after changes through Dir", 0x21, "sd-two", "v2")

	// A change from outside the server: one xattr, by path.
	time.Sleep(3 * xattrCacheSettle)
	check("settled again", 0x21, "sd-two", "v2")
	for _, name := range names {
		if err := unix.Lsetxattr(filepath.Join(root, name), eaPrefix+"E", []byte("v3"), 0); err != nil {
			t.Fatal(err)
		}
	}
	check("after a change by another process", 0x21, "sd-two", "v3")
}
