package vfs_test

import (
	"bytes"
	"testing"

	"github.com/cifsd/cifsd/vfs"
)

// A stored descriptor is read back, follows its file through a rename
// and is absent for a file that never had one.
func TestSDStore(t *testing.T) {
	d, err := vfs.Dir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, fsys := range map[string]vfs.FS{"mem": vfs.NewMem(), "dir": d} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			store := fsys.(vfs.SDStore)
			if err := fsys.Mkdir(ctx, "d", 0o777); err != nil {
				t.Fatal(err)
			}
			f, err := fsys.OpenFile(ctx, "d/f", vfs.O_RDWR|vfs.O_CREATE, 0o666)
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if sd, err := store.SecurityDescriptor(ctx, "d/f"); err != nil || sd != nil {
				t.Fatalf("before any was stored: %x %v", sd, err)
			}
			big := bytes.Repeat([]byte{7}, 3000) // beyond Dir's first read buffer
			for _, want := range [][]byte{{1, 0, 4, 0x80}, big} {
				if err := store.SetSecurityDescriptor(ctx, "d/f", want); err != nil {
					t.Fatal(err)
				}
				if got, err := store.SecurityDescriptor(ctx, "d/f"); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("read back %d bytes, %v", len(got), err)
				}
			}
			if err := store.SetSecurityDescriptor(ctx, "d", []byte{9}); err != nil {
				t.Fatal(err)
			}
			if err := fsys.Rename(ctx, "d/f", "g"); err != nil {
				t.Fatal(err)
			}
			if got, _ := store.SecurityDescriptor(ctx, "g"); !bytes.Equal(got, big) {
				t.Errorf("after rename: %d bytes", len(got))
			}
			if got, _ := store.SecurityDescriptor(ctx, "d"); !bytes.Equal(got, []byte{9}) {
				t.Errorf("directory: %x", got)
			}
			if _, err := store.SecurityDescriptor(ctx, "missing"); err == nil {
				t.Error("no error for a missing file")
			}
		})
	}
}
