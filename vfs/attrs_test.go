package vfs_test

import (
	"io/fs"
	"testing"
	"time"

	"github.com/cifsd/cifsd/vfs"
)

// Stored attributes and times show in Stat, ReadDir and File.Stat; a
// stored change time gives way to the file system's once the file is
// written again.
func TestAttrStore(t *testing.T) {
	d, err := vfs.Dir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, fsys := range map[string]vfs.FS{"mem": vfs.NewMem(), "dir": d} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			f, err := fsys.OpenFile(ctx, "f", vfs.O_RDWR|vfs.O_CREATE, 0o666)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, ok := vfs.AttributesOf(mustStatOK(t, fsys, "f")); ok {
				t.Fatal("attributes before any were stored")
			}
			birth := time.Unix(-63158400, 0)
			change := time.Unix(15032385535, 0)
			store := fsys.(vfs.AttrStore)
			if err := store.SetAttrs(ctx, "f", vfs.Attrs{FileAttributes: 0x6, Birth: birth, Change: change}); err != nil {
				t.Fatal(err)
			}
			list, err := fsys.ReadDir(ctx, ".")
			if err != nil || len(list) != 1 {
				t.Fatal(list, err)
			}
			fstat, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			for i, fi := range []fs.FileInfo{mustStatOK(t, fsys, "f"), list[0], fstat} {
				if a, ok := vfs.AttributesOf(fi); !ok || a != 0x6 {
					t.Errorf("%d: attributes %#x %v", i, a, ok)
				}
			}
			tm := vfs.TimesOf(mustStatOK(t, fsys, "f"))
			if !tm.Birth.Equal(birth) || !tm.Change.Equal(change) {
				t.Errorf("birth %v change %v", tm.Birth, tm.Change)
			}
			time.Sleep(10 * time.Millisecond)
			if _, err := f.WriteAt([]byte("x"), 0); err != nil {
				t.Fatal(err)
			}
			if tm := vfs.TimesOf(mustStatOK(t, fsys, "f")); tm.Change.Equal(change) || !tm.Birth.Equal(birth) {
				t.Errorf("after a write: birth %v change %v", tm.Birth, tm.Change)
			}
			// Times beyond 2262 (UnixNano's end) and before 1970.
			for _, mt := range []time.Time{time.Unix(15032385535, 0), time.Unix(-63158400, 100)} {
				if err := fsys.Chtimes(ctx, "f", mt, mt); err != nil {
					t.Fatal(err)
				}
				if got := mustStatOK(t, fsys, "f").ModTime(); !got.Equal(mt) {
					t.Errorf("mtime %v, want %v", got, mt)
				}
			}
		})
	}
}

func mustStatOK(t *testing.T, fsys vfs.FS, name string) fs.FileInfo {
	t.Helper()
	fi, err := fsys.Stat(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
