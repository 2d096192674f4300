package fscc

import "testing"

func FuzzDecoders(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 'a', 0, 'b', 0})
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeRenameInformation(b)
		DecodeBasicInformation(b)
		DecodeInt64(b)
		DecodeUint32(b)
	})
}

func TestDirWriterBounds(t *testing.T) {
	e := DirEntry{Name: "abc"}
	need := dirFixed[FileIdBothDirectoryInformation] + 6
	w, _ := NewDirWriter(FileIdBothDirectoryInformation, make([]byte, need-1))
	if w.Add(&e) {
		t.Fatal("entry added to a buffer one byte short")
	}
	w, _ = NewDirWriter(FileIdBothDirectoryInformation, make([]byte, need))
	if !w.Add(&e) || w.Len() != need {
		t.Fatal("exactly-fitting entry refused")
	}
	if w.Add(&e) {
		t.Fatal("second entry added to a full buffer")
	}
	if _, err := NewDirWriter(99, nil); err == nil {
		t.Fatal("unknown class accepted")
	}
}
