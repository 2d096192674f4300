package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

// listShort lists dir (opened as a directory) with FileIdBothDirectoryInformation
// and pattern, and returns each name's short name ("" for none).
func (w *wireClient) listShort(dir smb2.FileID, pattern string) map[string]string {
	w.t.Helper()
	out := map[string]string{}
	flags := uint8(smb2.QueryDirRestartScans)
	for {
		n := utf16le.Encode(pattern)
		b := make([]byte, 32+len(n))
		le16(b, 33)
		b[2] = fscc.FileIdBothDirectoryInformation
		b[3] = flags
		putFID(b[8:], dir)
		le16(b[24:], uint16(smb2.HeaderSize+32))
		le16(b[26:], uint16(len(n)))
		le32(b[28:], 4096)
		copy(b[32:], n)
		flags = 0
		h, resp := w.roundTrip(smb2.QueryDirectory, b, true, false)
		if h.Status == uint32(smb2.StatusNoMoreFiles) || h.Status == uint32(smb2.StatusNoSuchFile) {
			return out
		}
		if h.Status != 0 {
			w.t.Fatalf("query directory %q: %v", pattern, smb2.Status(h.Status))
		}
		body := resp[smb2.HeaderSize:]
		off, size := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:])
		buf := resp[off : uint32(off)+size]
		for len(buf) >= 104 {
			nameLen := binary.LittleEndian.Uint32(buf[60:])
			name := utf16le.Decode(buf[104 : 104+nameLen])
			out[name] = utf16le.Decode(buf[70 : 70+uint32(buf[68])])
			next := binary.LittleEndian.Uint32(buf)
			if next == 0 {
				break
			}
			buf = buf[next:]
		}
	}
}

// altName returns FileAlternateNameInformation of f.
func (w *wireClient) altName(f smb2.FileID) string {
	w.t.Helper()
	st, out := w.queryInfo(f, fscc.FileAlternateNameInformation, 64)
	if st != 0 {
		w.t.Fatalf("alternate name: %v", st)
	}
	n := binary.LittleEndian.Uint32(out)
	return utf16le.Decode(out[4 : 4+n])
}

func (w *wireClient) mkfile(name, data string) {
	w.t.Helper()
	st, f := w.createWith(name, smb2.GenericAll, shareAll, smb2.FileCreate, smb2.FileNonDirectoryFile)
	if st != 0 {
		w.t.Fatalf("create %s: %v", name, st)
	}
	if data != "" {
		w.write(f, 0, []byte(data))
	}
	w.closeFile(f)
}

// Files whose names are not 8.3 names get short names in Windows' shape,
// unique in their directory and kept while the file exists; a valid 8.3
// name (whatever its case) has none; listing and FileAlternateNameInformation
// agree; a path or a search pattern naming the short name reaches the file.
func TestShortNames(t *testing.T) {
	for bname, fsys := range attrBackends(t) {
		t.Run(bname, func(t *testing.T) {
			w := attrClient(t, fsys)
			st, d := w.createWith("Long Directory Name", smb2.GenericAll, shareAll, smb2.FileCreate, smb2.FileDirectoryFile)
			if st != 0 {
				t.Fatal(st)
			}
			w.mkfile(`Long Directory Name\Long File Name Two.txt`, "two")
			w.mkfile(`Long Directory Name\Long File Name One.txt`, "one")
			w.mkfile(`Long Directory Name\readme.txt`, "")
			got := w.listShort(d, "*")
			two, one := got["Long File Name Two.txt"], got["Long File Name One.txt"]
			if two != "LONGFI~1.TXT" && two != "LONGFI~2.TXT" || one != "LONGFI~1.TXT" && one != "LONGFI~2.TXT" || one == two {
				t.Fatalf("short names %q %q", one, two)
			}
			if got["readme.txt"] != "" {
				t.Errorf("8.3 name has short name %q", got["readme.txt"])
			}

			// Another competing name later changes nobody's short name.
			w.mkfile(`Long Directory Name\Long File Name Aaa.txt`, "")
			got = w.listShort(d, "*")
			if got["Long File Name Two.txt"] != two || got["Long File Name One.txt"] != one || got["Long File Name Aaa.txt"] != "LONGFI~3.TXT" {
				t.Fatalf("after a third file: %v", got)
			}

			// FileAlternateNameInformation says the same; an 8.3 name is its own.
			_, f := w.createWith(`Long Directory Name\Long File Name One.txt`, smb2.GenericRead, shareAll, smb2.FileOpen, 0)
			if a := w.altName(f); a != one {
				t.Errorf("alternate name %q, listing %q", a, one)
			}
			w.closeFile(f)
			_, f = w.createWith(`Long Directory Name\readme.txt`, smb2.GenericRead, shareAll, smb2.FileOpen, 0)
			if a := w.altName(f); a != "readme.txt" {
				t.Errorf("alternate name of readme.txt: %q", a)
			}
			w.closeFile(f)

			// The short names reach the files, in any element of a path.
			_, rootDir := w.createWith("", smb2.GenericRead, shareAll, smb2.FileOpen, 0)
			dirShort := w.listShort(rootDir, "*")["Long Directory Name"]
			if dirShort != "LONGDI~1" {
				t.Fatalf("directory short name %q", dirShort)
			}
			st, f = w.createWith(dirShort+`\`+two, smb2.GenericRead, shareAll, smb2.FileOpen, 0)
			if st != 0 {
				t.Fatalf("open by short names: %v", st)
			}
			if data := w.read(f, 0, 16); string(data) != "two" {
				t.Errorf("short name opened %q, want the file holding \"two\"", data)
			}
			w.closeFile(f)

			// A search pattern naming a short name finds the long one.
			if got := w.listShort(rootDir, "longdi~1"); len(got) != 1 || got["Long Directory Name"] != "LONGDI~1" {
				t.Errorf("search by short name: %v", got)
			}
			w.closeFile(rootDir)

			// A renamed file loses its short name; its new one is free.
			w.closeFile(d) // a rename into an open directory with DELETE access is refused
			_, f = w.createWith(`Long Directory Name\Long File Name One.txt`, smb2.GenericAll, shareAll, smb2.FileOpen, 0)
			if st := w.rename(f, `Long Directory Name\Another Long Name.txt`, false); st != 0 {
				t.Fatal(st)
			}
			w.closeFile(f)
			if st, _ := w.createWith(`Long Directory Name\`+one, smb2.GenericRead, shareAll, smb2.FileOpen, 0); st != smb2.StatusObjectNameNotFound {
				t.Errorf("old short name after rename: %v", st)
			}
			_, d = w.createWith("Long Directory Name", smb2.GenericRead, shareAll, smb2.FileOpen, 0)
			if got := w.listShort(d, "*"); got["Another Long Name.txt"] != "ANOTHE~1.TXT" || got["Long File Name Two.txt"] != two {
				t.Errorf("after rename: %v", got)
			}
			w.closeFile(d)
		})
	}
}

// A file deleted and created again under its short name gets its long name
// and short name back (NTFS name tunneling), as a program that saves
// through the short name expects.
func TestShortNameTunneling(t *testing.T) {
	for bname, fsys := range attrBackends(t) {
		t.Run(bname, func(t *testing.T) {
			w := attrClient(t, fsys)
			w.mkfile("A Long Document Name.docx", "old")
			_, root := w.createWith("", smb2.GenericRead, shareAll, smb2.FileOpen, 0)
			short := w.listShort(root, "*")["A Long Document Name.docx"]
			if short != "ALONGD~1.DOC" {
				t.Fatalf("short name %q", short)
			}
			st, f := w.createWith(short, smb2.GenericAll|smb2.Delete, shareAll, smb2.FileOpen, smb2.FileDeleteOnClose)
			if st != 0 {
				t.Fatalf("open by short name to delete: %v", st)
			}
			w.closeFile(f)
			if got := w.listShort(root, "*"); len(got) != 2 { // "." and ".."
				t.Fatalf("after delete: %v", got)
			}
			w.mkfile(short, "new")
			got := w.listShort(root, "*")
			if got["A Long Document Name.docx"] != short || len(got) != 3 {
				t.Fatalf("recreated by short name: %v", got)
			}
			w.closeFile(root)
		})
	}
}
