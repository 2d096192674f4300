package vfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A paged listing of Dir, and Stat, read each entry's stat, stored
// attributes and EAs by name under its directory (statx,
// listxattrat/getxattrat or the /proc path, the directory opened with
// openat2); they must report what the os.Root path reports (an open of the
// entry, its xattrs through /proc): the listing is what QUERY_DIRECTORY
// answers with, the Stat what CREATE and QUERY_INFO do.
func TestReadDirPageMatchesStat(t *testing.T) {
	for _, viaProc := range []bool{false, true} {
		t.Run(fmt.Sprintf("proc=%v", viaProc), func(t *testing.T) {
			old := xattratMissing.Load()
			xattratMissing.Store(viaProc)
			t.Cleanup(func() { xattratMissing.Store(old) })
			testReadDirPageMatchesStat(t)
		})
	}
}

// slowStat is Stat by the os.Root path alone.
func slowStat(t *testing.T, d *DirFS, name string) fs.FileInfo {
	t.Helper()
	o1, o2 := openat2Missing.Load(), xattratMissing.Load()
	openat2Missing.Store(true)
	xattratMissing.Store(true)
	defer func() { openat2Missing.Store(o1); xattratMissing.Store(o2) }()
	fi, err := d.Stat(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	fi.(*dirInfo).get()
	return fi
}

func testReadDirPageMatchesStat(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"plain", "attrs", "eas", "manyeas"} {
		if err := os.WriteFile(filepath.Join(root, "d", n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "d", "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("plain", filepath.Join(root, "d", "link")); err != nil {
		t.Fatal(err)
	}
	birth := time.Date(2001, 2, 3, 4, 5, 6, 700, time.UTC)
	change := time.Date(2011, 2, 3, 4, 5, 6, 800, time.UTC)
	if err := d.SetAttrs(ctx, "d/attrs", Attrs{FileAttributes: 0x21, Birth: birth, Change: change}); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	if err := d.SetEA(ctx, "d/eas", EA{Name: "ONE", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	// More names than one small listxattr buffer holds.
	for i := 0; i < 20; i++ {
		name := fmt.Sprintf("A-LONG-EXTENDED-ATTRIBUTE-NAME-%02d", i)
		if err := d.SetEA(ctx, "d/manyeas", EA{Name: name, Value: []byte(strings.Repeat("v", i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetAttrs(ctx, "d/manyeas", Attrs{FileAttributes: 0x2}); err != nil {
		t.Fatal(err)
	}

	describe := func(fi fs.FileInfo) string {
		st := fi.Sys().(*syscall.Stat_t)
		a, ok := AttributesOf(fi)
		eas, known := fi.(EAInfo).ExtendedAttributes()
		var es []string
		for _, ea := range eas {
			es = append(es, ea.Name+"="+string(ea.Value))
		}
		slices.Sort(es)
		tm := TimesOf(fi)
		return fmt.Sprintf("name=%s size=%d mode=%v mtime=%v dir=%v ino=%d nlink=%d attrs=%#x/%v times=%v eas=%v/%v",
			fi.Name(), fi.Size(), fi.Mode(), fi.ModTime().UnixNano(), fi.IsDir(), st.Ino, st.Nlink,
			a, ok, tm, known, es)
	}
	page, err := d.ReadDirPage(ctx, "d", "", 100)
	if err != nil && err.Error() != "EOF" {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range page {
		got := e.Info
		name := got.Name()
		seen = append(seen, name)
		want := slowStat(t, d, "d/"+name)
		fast, err := d.Stat(ctx, "d/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := describe(got), describe(want); g != w {
			t.Errorf("listing: %s\nos.Root: %s", g, w)
		}
		if g, w := describe(fast), describe(want); g != w {
			t.Errorf("Stat:    %s\nos.Root: %s", g, w)
		}
	}
	// A name at the top, and names that are not there.
	if top, err := d.Stat(ctx, "d"); err != nil || describe(top) != describe(slowStat(t, d, "d")) {
		t.Errorf("Stat(d) = %s, %v; os.Root: %s", describe(top), err, describe(slowStat(t, d, "d")))
	}
	for _, name := range []string{"missing", "d/missing", "nodir/x", "d/plain/x", "d/link/x"} {
		_, err := d.Stat(ctx, name)
		o := openat2Missing.Load()
		openat2Missing.Store(true)
		_, werr := d.Stat(ctx, name)
		openat2Missing.Store(o)
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) || fmt.Sprint(errors.Unwrap(err)) != fmt.Sprint(errors.Unwrap(werr)) {
			t.Errorf("Stat(%s) = %v, os.Root says %v", name, err, werr)
		}
	}
	slices.Sort(seen)
	// Symbolic links that lead out of the share: refused as os.Root does.
	for i, target := range []string{"/etc", "../..", "../../.."} {
		if err := os.Symlink(target, filepath.Join(root, "d", fmt.Sprint("out", i))); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("d/out%d/passwd", i)
		_, err := d.Stat(ctx, name)
		o := openat2Missing.Load()
		openat2Missing.Store(true)
		_, werr := d.Stat(ctx, name)
		openat2Missing.Store(o)
		if err == nil || fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Errorf("Stat(%s) = %v, os.Root says %v", name, err, werr)
		}
	}
	// OpenFile: the same file or the same refusal as os.Root's.
	for _, name := range []string{"d/plain", "d/link", "d/sub", "d/out0/passwd", "d/out1/x", "d/missing", "d/plain/x", "d/new"} {
		f, err := d.OpenFile(ctx, name, O_RDWR|O_CREATE|O_EXCL, 0o600)
		if f != nil {
			f.Close()
			os.Remove(filepath.Join(root, name))
		}
		o := openat2Missing.Load()
		openat2Missing.Store(true)
		wf, werr := d.OpenFile(ctx, name, O_RDWR|O_CREATE|O_EXCL, 0o600)
		openat2Missing.Store(o)
		if wf != nil {
			wf.Close()
			os.Remove(filepath.Join(root, name))
		}
		if (f == nil) != (wf == nil) || fmt.Sprint(errors.Unwrap(err)) != fmt.Sprint(errors.Unwrap(werr)) {
			t.Errorf("OpenFile(%s) = %v, os.Root says %v", name, err, werr)
		}
	}
	if f, err := d.OpenFile(ctx, "d/plain", O_RDONLY, 0); err != nil {
		t.Error(err)
	} else {
		b := make([]byte, 10)
		n, _ := f.ReadAt(b, 0)
		if f.Close(); string(b[:n]) != "plain" {
			t.Errorf("d/plain reads %q", b[:n])
		}
	}
	if want := []string{"attrs", "eas", "link", "manyeas", "plain", "sub"}; !slices.Equal(seen, want) {
		t.Errorf("listed %v, want %v", seen, want)
	}
}
