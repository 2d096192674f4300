package vfs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"

	"github.com/cifsd/cifsd/vfs"
	"github.com/cifsd/cifsd/vfs/vfstest"
)

func TestMem(t *testing.T) {
	vfstest.TestFS(t, func(t *testing.T) vfs.FS { return vfs.NewMem() })
}

func TestDir(t *testing.T) {
	vfstest.TestFS(t, func(t *testing.T) vfs.FS {
		d, err := vfs.Dir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	})
}

func TestAfero(t *testing.T) {
	vfstest.TestFS(t, func(t *testing.T) vfs.FS { return vfs.Afero(afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())) })
}

// A name or a link can never reach outside a Dir.
func TestDirConfined(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644)
	root := t.TempDir()
	os.Symlink(outside, filepath.Join(root, "link"))
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "filelink"))
	d, err := vfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	for _, name := range []string{"../" + filepath.Base(outside) + "/secret", "link/secret", "filelink"} {
		if f, err := d.OpenFile(ctx, name, vfs.O_RDONLY, 0); err == nil {
			f.Close()
			t.Errorf("opened %q outside the root", name)
		}
	}
	if _, err := d.ReadDir(ctx, "link"); err == nil {
		t.Error("listed a directory outside the root")
	}
	if _, err := d.ReadDirPage(ctx, "link", "", 10); err == nil {
		t.Error("paged through a directory outside the root")
	}
	if err := d.Rename(ctx, "filelink", "../escaped"); err == nil {
		t.Error("renamed to outside the root")
	}
}
