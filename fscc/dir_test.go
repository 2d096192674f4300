package fscc

import (
	"bytes"
	"testing"
)

// A listing written into a reused buffer (the server pools them) is the
// one written into a zeroed buffer: no byte of an earlier listing shows
// in an entry or in the padding between entries.
func TestDirWriterReusedBuffer(t *testing.T) {
	entries := []DirEntry{
		{Name: ".", FileAttributes: FileAttributeDirectory},
		{Name: "a", EndOfFile: 1, FileAttributes: FileAttributeArchive, ShortName: "A"},
		{Name: "longer name.txt", EndOfFile: 12345, FileID: 7},
		{Name: "odd", EaSize: 9},
	}
	for class := range uint8(64) {
		if !DirClassSupported(class) {
			continue
		}
		write := func(buf []byte) []byte {
			w, err := NewDirWriter(class, buf)
			if err != nil {
				t.Fatal(err)
			}
			for i := range entries {
				if !w.Add(&entries[i]) {
					t.Fatalf("class %d: entry %d does not fit", class, i)
				}
			}
			return w.Bytes()
		}
		clean := write(make([]byte, 4096))
		dirty := make([]byte, 4096)
		for i := range dirty {
			dirty[i] = 0xA5
		}
		if got := write(dirty); !bytes.Equal(got, clean) {
			t.Errorf("class %d: a reused buffer gives\n%x\nwant\n%x", class, got, clean)
		}
	}
}
