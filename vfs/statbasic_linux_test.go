package vfs_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// StatBasic describes a name as the file system's stat does, in a
// directory and out of it, whatever attributes and times are stored for
// it: Dir reads no xattr for it.
func TestStatBasic(t *testing.T) {
	root := t.TempDir()
	d, err := vfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	if err := d.Mkdir(ctx, "sub", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"f", "sub/g"} {
		f, err := d.OpenFile(ctx, name, vfs.O_RDWR|vfs.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		change := time.Unix(15032385535, 0)
		if err := d.SetAttrs(ctx, name, vfs.Attrs{FileAttributes: 0x21, Change: change}); err != nil {
			if errors.Is(err, errors.ErrUnsupported) {
				t.Skip("no xattrs here")
			}
			t.Fatal(err)
		}
		if got := vfs.TimesOf(mustStatOK(t, d, name)).Change; !got.Equal(change) {
			t.Fatalf("Stat(%s): change %v, want the stored %v", name, got, change)
		}
		fi, err := vfs.StatBasic(ctx, d, name)
		if err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(root, name), &st); err != nil {
			t.Fatal(err)
		}
		if fi.Name() != filepath.Base(name) || fi.Size() != st.Size || fi.IsDir() || !fi.ModTime().Equal(time.Unix(st.Mtim.Sec, st.Mtim.Nsec)) {
			t.Errorf("StatBasic(%s) = %s %d %v %v; lstat: size %d", name, fi.Name(), fi.Size(), fi.IsDir(), fi.ModTime(), st.Size)
		}
		if got, want := vfs.TimesOf(fi).Change, time.Unix(st.Ctim.Sec, st.Ctim.Nsec); !got.Equal(want) {
			t.Errorf("StatBasic(%s): change %v, want the file system's %v", name, got, want)
		}
		if _, ok := vfs.AttributesOf(fi); ok {
			t.Errorf("StatBasic(%s) reports stored attributes", name)
		}
	}
	if fi, err := vfs.StatBasic(ctx, d, "sub"); err != nil || !fi.IsDir() {
		t.Errorf("StatBasic(sub) = %v, %v; want a directory", fi, err)
	}
	if _, err := vfs.StatBasic(ctx, d, "sub/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("StatBasic(sub/missing): %v, want ErrNotExist", err)
	}
	// A backend without BasicStater answers with its Stat.
	m := vfs.NewMem()
	if err := m.Mkdir(ctx, "x", 0o755); err != nil {
		t.Fatal(err)
	}
	if fi, err := vfs.StatBasic(ctx, m, "x"); err != nil || !fi.IsDir() {
		t.Errorf("StatBasic(mem x) = %v, %v", fi, err)
	}
}
