package smb

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
)

// createWith opens name with the given access, sharing, disposition and
// options; it returns the status and the file id.
func (w *wireClient) createWith(name string, access, share, disp, options uint32) (smb2.Status, smb2.FileID) {
	w.t.Helper()
	b := createBody(name)
	le32(b[24:], access)
	le32(b[32:], share)
	le32(b[36:], disp)
	le32(b[40:], options)
	h, resp := w.roundTrip(smb2.Create, b, true, false)
	if h.Status != 0 {
		return smb2.Status(h.Status), smb2.FileID{}
	}
	body := resp[smb2.HeaderSize:]
	return 0, smb2.FileID{Persistent: binary.LittleEndian.Uint64(body[64:]), Volatile: binary.LittleEndian.Uint64(body[72:])}
}

// rename sends FileRenameInformation (MS-FSCC 2.4.42.2) for f.
func (w *wireClient) rename(f smb2.FileID, to string, replace bool) smb2.Status {
	w.t.Helper()
	return w.setInfoRaw(f, fscc.FileRenameInformation, renameInfo(to, replace))
}

// renameInfo is a FILE_RENAME_INFORMATION_TYPE_2 (MS-FSCC 2.4.42.2), which
// FileLinkInformation shares.
func renameInfo(to string, replace bool) []byte {
	n := utf16le.Encode(to)
	in := make([]byte, 20+len(n))
	if replace {
		in[0] = 1
	}
	le32(in[16:], uint32(len(n)))
	copy(in[20:], n)
	return in
}

// streamNames lists the stream names FileStreamInformation reports for f.
func (w *wireClient) streamNames(f smb2.FileID) []string {
	w.t.Helper()
	st, b := w.queryInfo(f, fscc.FileStreamInformation, 4096)
	if st != 0 {
		w.t.Fatalf("query streams: %v", st)
	}
	var out []string
	for len(b) >= 24 {
		next := binary.LittleEndian.Uint32(b)
		n := binary.LittleEndian.Uint32(b[4:])
		out = append(out, utf16le.Decode(b[24:24+n]))
		if next == 0 {
			break
		}
		b = b[next:]
	}
	return out
}

// A named stream is renamed by ":name": its data moves with it, an
// existing stream is replaced only when asked and empty, and "::$DATA"
// moves the data into the file's empty default stream.
func TestStreamRename(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			s := w.open("f:one", smb2.GenericAll, 0)
			w.write(s, 0, []byte("hello"))
			if st := w.rename(s, ":two:$DATA", false); st != 0 {
				t.Fatalf("rename to :two: %v", st)
			}
			if got := w.streamNames(s); strings.Join(got, ",") != "::$DATA,:two:$DATA" {
				t.Errorf("streams after rename: %v", got)
			}
			if got := w.read(s, 0, 5); string(got) != "hello" {
				t.Errorf("renamed stream reads %q", got)
			}
			w.write(s, 5, []byte("!")) // the handle writes the new stream
			o := w.open("f:other", smb2.GenericAll, 0)
			w.write(o, 0, []byte("x"))
			w.closeFile(o)
			if st := w.rename(s, ":other", false); st != smb2.StatusObjectNameCollision {
				t.Errorf("rename onto a stream, no replace: %v", st)
			}
			if st := w.rename(s, ":other", true); st != smb2.StatusInvalidParameter {
				t.Errorf("rename onto a non-empty stream: %v", st)
			}
			if st := w.rename(s, ":bad:$FOO", true); st != smb2.StatusInvalidParameter {
				t.Errorf("rename to a bad type: %v", st)
			}
			if st := w.rename(s, "::$DATA", true); st != 0 {
				t.Fatalf("rename to the default stream: %v", st)
			}
			w.closeFile(s)
			f := w.open("f", smb2.GenericAll, 0)
			if got := w.read(f, 0, 6); string(got) != "hello!" {
				t.Errorf("default stream reads %q", got)
			}
			if got := w.streamNames(f); strings.Join(got, ",") != "::$DATA,:other:$DATA" {
				t.Errorf("streams at the end: %v", got)
			}
		})
	}
}

// A stream open without FILE_SHARE_DELETE keeps its file from being
// opened for delete; with it, the file deleted stays until the stream's
// last handle closes, its names answering DELETE_PENDING meanwhile.
func TestStreamOpenDelaysDelete(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			rw := uint32(smb2.FileReadData | smb2.FileWriteData)
			st, s := w.createWith("f:s", rw, 0, smb2.FileCreate, 0)
			if st != 0 {
				t.Fatal(st)
			}
			if st, _ := w.createWith("f", smb2.Delete, shareAll, smb2.FileOpen, smb2.FileDeleteOnClose); st != smb2.StatusSharingViolation {
				t.Fatalf("delete while a stream denies it: %v", st)
			}
			w.closeFile(s)
			_, s = w.createWith("f:s", rw, shareAll, smb2.FileOpen, 0)
			st, d := w.createWith("f", smb2.Delete, shareAll, smb2.FileOpen, smb2.FileDeleteOnClose)
			if st != 0 {
				t.Fatalf("delete with the stream sharing delete: %v", st)
			}
			w.closeFile(d)
			for _, n := range []string{"f", "f:s"} {
				if st, _ := w.createWith(n, rw, shareAll, smb2.FileOpenIf, 0); st != smb2.StatusDeletePending {
					t.Errorf("open %s while deleted: %v", n, st)
				}
			}
			w.write(s, 0, []byte("still")) // the stream's handle works
			w.closeFile(s)
			if st, _ := w.createWith("f", rw, shareAll, smb2.FileOpen, 0); st != smb2.StatusObjectNameNotFound {
				t.Errorf("open after the last close: %v", st)
			}
		})
	}
}

// A file renamed while a stream of it is open takes the stream along; a
// stream open not sharing delete refuses the rename.
func TestRenameFileWithOpenStream(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			rw := uint32(smb2.FileReadData | smb2.FileWriteData)
			f := w.open("f", smb2.GenericAll, 0)
			_, s := w.createWith("f:s", rw, smb2.FileShareRead|smb2.FileShareWrite, smb2.FileCreate, 0)
			if st := w.rename(f, "g", false); st != smb2.StatusSharingViolation {
				t.Fatalf("rename with a stream not sharing delete: %v", st)
			}
			w.closeFile(s)
			_, s = w.createWith("f:s", rw, shareAll, smb2.FileOpen, 0)
			if st := w.rename(f, "g", false); st != 0 {
				t.Fatalf("rename: %v", st)
			}
			w.write(s, 0, []byte("moved"))
			if st, _ := w.createWith("g:s", rw, smb2.FileShareRead, smb2.FileOpen, 0); st != smb2.StatusSharingViolation {
				t.Errorf("open g:s while the moved stream is open not sharing write: %v", st)
			}
			w.closeFile(s)
			st, s2 := w.createWith("g:s", rw, shareAll, smb2.FileOpen, 0)
			if st != 0 {
				t.Fatalf("open g:s: %v", st)
			}
			if got := w.read(s2, 0, 5); string(got) != "moved" {
				t.Errorf("g:s reads %q", got)
			}
		})
	}
}

// A stream write the backend has no room for (the Dir backend keeps a
// file's streams in its xattrs: about 4 KiB in all on ext4) fails with
// STATUS_DISK_FULL and leaves the stream as it was: its size and bytes
// read back unchanged, and it takes writes that fit again.
func TestStreamWritePastBackendRoomIsDiskFull(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			s := w.open("f:big", smb2.GenericAll, 0)
			first := bytes.Repeat([]byte("1"), 1024)
			w.write(s, 0, first)
			// 60 KiB: more than ext4 keeps of one file's xattrs, less
			// than the largest stream the Dir backend accepts (64 KiB).
			big := bytes.Repeat([]byte("2"), 60<<10)
			st := w.rawWrite(s, 512, big)
			want := first
			switch st {
			case smb2.StatusSuccess: // a backend (or file system) with room
				want = append(append([]byte(nil), first[:512]...), big...)
			case smb2.StatusDiskFull:
			default:
				t.Fatalf("write past the room: %v, want success or STATUS_DISK_FULL", st)
			}
			for off := 0; off < len(want); off += 4096 {
				n := min(4096, len(want)-off)
				if got := w.read(s, uint64(off), uint32(n)); !bytes.Equal(got, want[off:off+n]) {
					t.Fatalf("after %v: bytes at %d differ", st, off)
				}
			}
			if rst := w.rawRead(s, uint64(len(want)), 16); rst != smb2.StatusEndOfFile {
				t.Fatalf("after %v: a read at the stream's end: %v, want STATUS_END_OF_FILE", st, rst)
			}
			w.write(s, 0, []byte("3"))
			if got := w.read(s, 0, 2); string(got) != "31" {
				t.Fatalf("a write that fits after %v: read back %q", st, got)
			}
		})
	}
}
