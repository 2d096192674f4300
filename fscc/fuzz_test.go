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

func FuzzEAs(f *testing.F) {
	f.Add(EncodeFullEaInformation([]EA{{Name: "EAONE", Value: []byte("VALUE1")}, {Name: "SECONDEA", Value: []byte("ValueTwo")}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		eas, err := DecodeFullEaInformation(b)
		if err != nil {
			return
		}
		again, err := DecodeFullEaInformation(EncodeFullEaInformation(eas))
		if err != nil || len(again) != len(eas) {
			t.Fatalf("re-encoding lost EAs: %v", err)
		}
	})
}

func TestEARoundTrip(t *testing.T) {
	in := []EA{{Name: "EAONE", Value: []byte("VALUE1")}, {Name: "SECONDEA", Value: []byte("ValueTwo"), Flags: 0x80}}
	b := EncodeFullEaInformation(in)
	if int(EaSize(in)) != len(b) {
		t.Fatalf("EaSize %d, encoding %d", EaSize(in), len(b))
	}
	out, err := DecodeFullEaInformation(b)
	if err != nil || len(out) != 2 || out[1].Name != "SECONDEA" || string(out[1].Value) != "ValueTwo" || out[1].Flags != 0x80 {
		t.Fatalf("%+v %v", out, err)
	}
}
