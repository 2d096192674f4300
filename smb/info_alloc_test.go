package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
)

// An allocation set beyond the end of file is reported, and the data is
// untouched; one below it truncates.
func TestAllocationInformation(t *testing.T) {
	for bname, fsys := range attrBackends(t) {
		t.Run(bname, func(t *testing.T) {
			w := attrClient(t, fsys)
			st, f := w.createWith("f", smb2.GenericAll, shareAll, smb2.FileCreate, smb2.FileNonDirectoryFile)
			if st != 0 {
				t.Fatal(st)
			}
			standard := func() (alloc, eof int64) {
				st, out := w.queryInfo(f, fscc.FileStandardInformation, 24)
				if st != 0 {
					t.Fatal(st)
				}
				return int64(binary.LittleEndian.Uint64(out)), int64(binary.LittleEndian.Uint64(out[8:]))
			}
			setAlloc := func(n uint64) {
				b := make([]byte, 8)
				binary.LittleEndian.PutUint64(b, n)
				if st := w.setInfoRaw(f, fscc.FileAllocationInformation, b); st != 0 {
					t.Fatal(st)
				}
			}
			setAlloc(1000)
			if alloc, eof := standard(); alloc != 4096 || eof != 0 {
				t.Errorf("after allocating 1000 bytes: allocation %d, end of file %d", alloc, eof)
			}
			w.write(f, 0, make([]byte, 5000))
			if alloc, eof := standard(); alloc != 8192 || eof != 5000 {
				t.Errorf("after writing 5000 bytes: allocation %d, end of file %d", alloc, eof)
			}
			setAlloc(100)
			if alloc, eof := standard(); alloc != 4096 || eof != 100 {
				t.Errorf("after allocating 100 bytes: allocation %d, end of file %d", alloc, eof)
			}
			w.closeFile(f)
		})
	}
}
