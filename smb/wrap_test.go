package smb

import (
	"testing"

	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// plainWrap hides every optional capability of what it wraps.
type plainWrap struct{ vfs.FS }

// unwrapping is plainWrap with an Unwrap method.
type unwrapping struct{ vfs.FS }

func (u unwrapping) Unwrap() vfs.FS { return u.FS }

// A share served through a wrapper with Unwrap keeps its backend's optional
// capabilities (here hard links and named streams); without Unwrap they
// are hidden, as they were for every wrapper before.
func TestWrappedBackendKeepsCapabilities(t *testing.T) {
	for name, tc := range map[string]struct {
		fsys vfs.FS
		want smb2.Status
	}{
		"Unwrap":    {unwrapping{vfs.NewMem()}, smb2.StatusSuccess},
		"no Unwrap": {plainWrap{vfs.NewMem()}, smb2.StatusNotSupported},
	} {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, tc.fsys)
			w.mkfile("a.txt", "data")
			st, f := w.createWith("a.txt", smb2.GenericAll, shareAll, smb2.FileOpen, 0)
			if st != 0 {
				t.Fatal(st)
			}
			if st := w.hardLink(f, "b.txt", false); st != tc.want {
				t.Errorf("hard link: %v, want %v", st, tc.want)
			}
			w.closeFile(f)
			st, f = w.createWith("a.txt:s", smb2.GenericAll, shareAll, smb2.FileOpenIf, 0)
			if st == 0 {
				w.closeFile(f)
			}
			if (st == 0) != (tc.want == 0) {
				t.Errorf("named stream create: %v", st)
			}
		})
	}
}
