package vfs

import (
	"context"
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

// A paged listing of Dir reads each entry's stat, stored attributes and
// EAs by name under the directory (statx, listxattrat/getxattrat or the
// /proc path); it must report what Stat of the same name reports: the
// listing is what QUERY_DIRECTORY answers with, the Stat what QUERY_INFO
// does.
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

	page, err := d.ReadDirPage(ctx, "d", "", 100)
	if err != nil && err.Error() != "EOF" {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range page {
		got := e.Info
		name := got.Name()
		seen = append(seen, name)
		want, err := d.Stat(ctx, "d/"+name)
		if err != nil {
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
		if g, w := describe(got), describe(want); g != w {
			t.Errorf("listing: %s\nstat:    %s", g, w)
		}
	}
	slices.Sort(seen)
	if want := []string{"attrs", "eas", "link", "manyeas", "plain", "sub"}; !slices.Equal(seen, want) {
		t.Errorf("listed %v, want %v", seen, want)
	}
}
