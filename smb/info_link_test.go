package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
)

// hardLink sends FileLinkInformation (MS-FSCC 2.4.27.2) for f.
func (w *wireClient) hardLink(f smb2.FileID, to string, replace bool) smb2.Status {
	w.t.Helper()
	return w.setInfoRaw(f, fscc.FileLinkInformation, renameInfo(to, replace))
}

// links is FileStandardInformation's NumberOfLinks for f.
func (w *wireClient) links(f smb2.FileID) uint32 {
	w.t.Helper()
	st, b := w.queryInfo(f, fscc.FileStandardInformation, 24)
	if st != 0 || len(b) < 20 {
		w.t.Fatalf("query standard information: %v", st)
	}
	return binary.LittleEndian.Uint32(b[16:])
}

// A hard link is a second name of the same file, on both backends: data
// written through one name reads through the other, the link count says
// two, and deleting one name leaves the other. Windows' refusals hold: an
// existing name without replace, a directory, a stream.
func TestHardLink(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			a := w.open("a", smb2.GenericAll, 0)
			w.write(a, 0, []byte("first"))
			w.mkdirAt("d")
			if st := w.hardLink(a, `d\b`, false); st != 0 {
				t.Fatalf("link: %v", st)
			}
			if n := w.links(a); n != 2 {
				t.Errorf("NumberOfLinks after link = %d, want 2", n)
			}
			b := w.open(`d\b`, smb2.GenericAll, 0)
			if got := w.read(b, 0, 5); string(got) != "first" {
				t.Errorf("the new name reads %q", got)
			}
			w.write(b, 0, []byte("again"))
			if got := w.read(a, 0, 5); string(got) != "again" {
				t.Errorf("a write through the new name reads %q through the old", got)
			}
			w.closeFile(b)

			c := w.open("c", smb2.GenericAll, 0)
			w.closeFile(c)
			if st := w.hardLink(a, "c", false); st != smb2.StatusObjectNameCollision {
				t.Errorf("link onto an existing name without replace: %v", st)
			}
			if st := w.hardLink(a, "c", true); st != 0 {
				t.Errorf("link onto an existing name with replace: %v", st)
			}
			if st := w.hardLink(a, "missing\\x", false); st != smb2.StatusObjectPathNotFound {
				t.Errorf("link into a missing directory: %v", st)
			}
			dir := w.open("d", smb2.GenericAll, smb2.FileDirectoryFile)
			if st := w.hardLink(dir, "d2", false); st != smb2.StatusFileIsADirectory {
				t.Errorf("link of a directory: %v", st)
			}
			w.closeFile(dir)
			s := w.open("a:s", smb2.GenericAll, 0)
			if st := w.hardLink(s, "s2", false); st != smb2.StatusInvalidParameter {
				t.Errorf("link of a stream: %v", st)
			}
			w.closeFile(s)
			w.closeFile(a)

			w.deleteFile("a")
			b = w.open(`d\b`, smb2.GenericRead, 0)
			if got := w.read(b, 0, 5); string(got) != "again" {
				t.Errorf("after the old name is deleted the new one reads %q", got)
			}
			if n := w.links(b); n != 2 { // d\b and c
				t.Errorf("NumberOfLinks after a delete = %d, want 2", n)
			}
		})
	}
}

func (w *wireClient) mkdirAt(name string) {
	w.t.Helper()
	st, d := w.createWith(name, smb2.GenericAll, smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete, smb2.FileCreate, smb2.FileDirectoryFile)
	if st != 0 {
		w.t.Fatalf("mkdir %s: %v", name, st)
	}
	w.closeFile(d)
}

// deleteFile deletes name by delete-on-close.
func (w *wireClient) deleteFile(name string) {
	w.t.Helper()
	st, f := w.createWith(name, smb2.Delete, smb2.FileShareRead|smb2.FileShareWrite|smb2.FileShareDelete, smb2.FileOpen, smb2.FileDeleteOnClose)
	if st != 0 {
		w.t.Fatalf("delete %s: %v", name, st)
	}
	w.closeFile(f)
}
