package vfs

import (
	"context"
	"sort"
	"strings"
	"testing"
)

// EAs set on a file read back through EAer and, on backends whose listings
// carry them (EAInfo), through the directory's listing too; an empty value
// removes one.
func TestExtendedAttributes(t *testing.T) {
	d, err := Dir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ctx := context.Background()
	for name, fsys := range map[string]FS{"mem": NewMem(), "dir": d} {
		t.Run(name, func(t *testing.T) {
			f, err := fsys.OpenFile(ctx, "f", O_RDWR|O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			ea := fsys.(EAer)
			for _, e := range []EA{{Name: "ONE", Value: []byte("1")}, {Name: "TWO", Value: []byte("22")}} {
				if err := ea.SetEA(ctx, "f", e); err != nil {
					t.Skipf("no EAs here: %v", err) // a file system without user xattrs
				}
			}
			names := func(list []EA) string {
				var s []string
				for _, e := range list {
					s = append(s, e.Name+"="+string(e.Value))
				}
				sort.Strings(s)
				return strings.Join(s, ",")
			}
			list, err := ea.EAs(ctx, "f")
			if err != nil || names(list) != "ONE=1,TWO=22" {
				t.Fatalf("EAs = %v, %v", names(list), err)
			}
			entries, err := fsys.ReadDir(ctx, ".")
			if err != nil || len(entries) != 1 {
				t.Fatalf("ReadDir: %v %v", entries, err)
			}
			if ei, ok := entries[0].(EAInfo); ok {
				if got, known := ei.ExtendedAttributes(); !known || names(got) != "ONE=1,TWO=22" {
					t.Errorf("listing's EAs = %v (known %v)", names(got), known)
				}
			}
			if err := ea.SetEA(ctx, "f", EA{Name: "ONE"}); err != nil {
				t.Fatal(err)
			}
			if list, err := ea.EAs(ctx, "f"); err != nil || names(list) != "TWO=22" {
				t.Errorf("after removing ONE: %v, %v", names(list), err)
			}
		})
	}
}
