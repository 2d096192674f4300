package smbwire

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

var dirClasses = []uint8{
	fscc.FileDirectoryInformation, fscc.FileFullDirectoryInformation, fscc.FileBothDirectoryInformation,
	fscc.FileIdBothDirectoryInformation, fscc.FileIdFullDirectoryInformation, fscc.FileNamesInformation,
}

// dirBuffer encodes entries named names with the server's encoder.
func dirBuffer(t testing.TB, class uint8, names ...string) []byte {
	w, err := fscc.NewDirWriter(class, make([]byte, 4096))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !w.Add(&fscc.DirEntry{Name: n}) {
			t.Fatal("entry did not fit")
		}
	}
	return w.Bytes()
}

func TestCountEntries(t *testing.T) {
	for _, class := range dirClasses {
		buf := dirBuffer(t, class, ".", "..", "a", "..b", "long name ✓")
		all, named, err := CountEntries(buf, class)
		if err != nil || all != 5 || named != 3 {
			t.Errorf("class %d: %d entries, %d named, %v; want 5, 3", class, all, named, err)
		}
		// Every truncation of a valid buffer is an error or counts fewer.
		for i := range buf {
			if all, _, err := CountEntries(buf[:i], class); err == nil && all >= 5 {
				t.Errorf("class %d: %d bytes of %d read as %d entries", class, i, len(buf), all)
			}
		}
	}
	buf := dirBuffer(t, fscc.FileDirectoryInformation, "a", "b")
	bad := func(what string, b []byte) {
		t.Helper()
		if _, _, err := CountEntries(b, fscc.FileDirectoryInformation); err == nil {
			t.Errorf("%s: no error", what)
		}
	}
	b := append([]byte(nil), buf...)
	binary.LittleEndian.PutUint32(b[60:], 1<<31) // FileNameLength
	bad("name past the end", b)
	b = append([]byte(nil), buf...)
	binary.LittleEndian.PutUint32(b, 8) // NextEntryOffset inside the entry
	bad("overlapping next entry", b)
	b = append([]byte(nil), buf...)
	binary.LittleEndian.PutUint32(b, uint32(len(b)+8))
	bad("next entry past the end", b)
	bad("short entry", buf[:40])
	if _, _, err := CountEntries(buf, 0x7f); err == nil {
		t.Error("unknown class: no error")
	}
}

// response builds a message whose body is StructureSize 9, then the
// buffer's offset and length, then data.
func response(off uint16, n uint32, data []byte) []byte {
	m := make([]byte, smb2.HeaderSize+8, smb2.HeaderSize+8+len(data))
	binary.LittleEndian.PutUint16(m[smb2.HeaderSize:], 9)
	binary.LittleEndian.PutUint16(m[smb2.HeaderSize+2:], off)
	binary.LittleEndian.PutUint32(m[smb2.HeaderSize+4:], n)
	return append(m, data...)
}

func TestNotifyNames(t *testing.T) {
	entry := func(next uint32, name string) []byte {
		n := utf16le.Encode(name)
		b := make([]byte, 12, 12+len(n)+4)
		binary.LittleEndian.PutUint32(b, next)
		binary.LittleEndian.PutUint32(b[4:], 1) // FILE_ACTION_ADDED
		binary.LittleEndian.PutUint32(b[8:], uint32(len(n)))
		b = append(b, n...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	first := entry(0, "one")
	binary.LittleEndian.PutUint32(first, uint32(len(first)))
	data := append(first, entry(0, "two")...)
	off := uint16(smb2.HeaderSize + 8)
	names, err := NotifyNames(response(off, uint32(len(data)), data))
	if err != nil || len(names) != 2 || names[0] != "one" || names[1] != "two" {
		t.Errorf("NotifyNames = %q, %v; want [one two]", names, err)
	}
	for _, tc := range []struct {
		what string
		msg  []byte
	}{
		{"short message", make([]byte, smb2.HeaderSize+4)},
		{"buffer past the end", response(off, uint32(len(data)+1), data)},
		{"buffer in the header", response(8, uint32(len(data)), data)},
		{"offset past the end", response(0xFFFF, 1, data)},
		{"name past the end", response(off, 14, entry(0, "xyz")[:14])},
		{"short entry", response(off, 8, data[:8])},
	} {
		if _, err := NotifyNames(tc.msg); err == nil {
			t.Errorf("%s: no error", tc.what)
		}
	}
	if names, err := NotifyNames(response(0, 0, nil)); err != nil || len(names) != 0 {
		t.Errorf("empty buffer: %q, %v; want none", names, err)
	}
}

// The decoders of server bytes return errors, never panic, and count no
// more entries than the bytes can hold.
func FuzzCountEntries(f *testing.F) {
	for _, class := range dirClasses {
		f.Add(class, dirBuffer(f, class, ".", "..", "name"))
	}
	f.Fuzz(func(t *testing.T, class uint8, buf []byte) {
		all, named, err := CountEntries(buf, class)
		if named > all || (err == nil && all > len(buf)/12) {
			t.Errorf("%d entries (%d named) in %d bytes", all, named, len(buf))
		}
		NotifyNames(buf)
		responseBuffer(buf)
	})
}
