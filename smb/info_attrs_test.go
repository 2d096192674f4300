package smb

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// attrBackends are the backends attributes and times must persist on.
func attrBackends(t *testing.T) map[string]vfs.FS {
	d, err := vfs.Dir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return map[string]vfs.FS{"mem": vfs.NewMem(), "dir": d}
}

// attrClient serves fsys as share "s" and returns a logged-in client.
func attrClient(t *testing.T, fsys vfs.FS) *wireClient {
	t.Helper()
	srv := &Server{
		Shares: []Share{{Name: "s", FS: fsys}},
		Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
	}
	t.Cleanup(func() { srv.Close() })
	return connectNTLM(t, srv, "s")
}

func (w *wireClient) closeFile(f smb2.FileID) {
	w.t.Helper()
	b := make([]byte, 24)
	le16(b, 24)
	putFID(b[8:], f)
	if h, _ := w.roundTrip(smb2.Close, b, true, false); h.Status != 0 {
		w.t.Fatalf("close: %v", smb2.Status(h.Status))
	}
}

// queryInfo returns a file information class of f.
func (w *wireClient) queryInfo(f smb2.FileID, class uint8, size uint32) (smb2.Status, []byte) {
	w.t.Helper()
	b := make([]byte, 41)
	le16(b, 41)
	b[2], b[3] = smb2.InfoFile, class
	le32(b[4:], size)
	putFID(b[24:], f)
	h, resp := w.roundTrip(smb2.QueryInfo, b, true, false)
	if h.Status != 0 {
		return smb2.Status(h.Status), nil
	}
	body := resp[smb2.HeaderSize:]
	off, n := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:])
	return 0, resp[off : uint32(off)+n]
}

type basicInfo struct {
	creation, access, write, change uint64
	attrs                           uint32
}

func (w *wireClient) basic(f smb2.FileID) basicInfo {
	w.t.Helper()
	st, out := w.queryInfo(f, fscc.FileBasicInformation, 40)
	if st != 0 || len(out) < 40 {
		w.t.Fatalf("query basic: %v", st)
	}
	u64 := binary.LittleEndian.Uint64
	return basicInfo{u64(out), u64(out[8:]), u64(out[16:]), u64(out[24:]), binary.LittleEndian.Uint32(out[32:])}
}

func (w *wireClient) setBasic(f smb2.FileID, bi basicInfo) smb2.Status {
	w.t.Helper()
	in := make([]byte, 40)
	le64(in, bi.creation)
	le64(in[8:], bi.access)
	le64(in[16:], bi.write)
	le64(in[24:], bi.change)
	le32(in[32:], bi.attrs)
	b := make([]byte, 32+len(in))
	le16(b, 33)
	b[2], b[3] = smb2.InfoFile, fscc.FileBasicInformation
	le32(b[4:], uint32(len(in)))
	le16(b[8:], smb2.HeaderSize+32)
	putFID(b[16:], f)
	copy(b[32:], in)
	h, _ := w.roundTrip(smb2.SetInfo, b, true, false)
	return smb2.Status(h.Status)
}

func ft(sec int64) uint64 { return fscc.FileTime(time.Unix(sec, 0)) }

const minus1, minus2 = ^uint64(0), ^uint64(1)

// Attributes and the four times a client sets survive the handle, on both
// backends, across the whole FILETIME range the tests of Samba use.
func TestBasicInfoPersists(t *testing.T) {
	for name, fsys := range attrBackends(t) {
		t.Run(name, func(t *testing.T) {
			w := attrClient(t, fsys)
			f := w.open("a.txt", smb2.GenericAll, 0)
			if got := w.basic(f).attrs; got != fscc.FileAttributeArchive {
				t.Fatalf("new file attributes %#x, want ARCHIVE", got)
			}
			for _, sec := range []int64{15032385535, 4294967295, 0, -1, -63158400, 1700000000} {
				want := basicInfo{creation: ft(sec), write: ft(sec), change: ft(sec), access: ft(sec - 7)} // 15032385535 is ext4's last second
				if st := w.setBasic(f, want); st != 0 {
					t.Fatalf("set %d: %v", sec, st)
				}
				got := w.basic(f)
				got.attrs = 0
				if got != want {
					t.Fatalf("times for %d: got %+v, want %+v", sec, got, want)
				}
			}
			set := basicInfo{creation: ft(1000), write: ft(2000), change: ft(3000),
				attrs: fscc.FileAttributeHidden | fscc.FileAttributeSystem | fscc.FileAttributeReadonly}
			if st := w.setBasic(f, set); st != 0 {
				t.Fatal(st)
			}
			// 0 changes nothing, -1 and -2 freeze and thaw: nothing either.
			for _, v := range []uint64{0, minus1, minus2} {
				if st := w.setBasic(f, basicInfo{creation: v, access: v, write: v, change: v}); st != 0 {
					t.Fatalf("set %#x: %v", v, st)
				}
			}
			w.closeFile(f)

			g := w.open("a.txt", smb2.FileReadAttributes|smb2.FileWriteAttributes, 0)
			got := w.basic(g)
			if got.creation != set.creation || got.write != set.write || got.change != set.change || got.attrs != set.attrs {
				t.Fatalf("after reopen: %+v, want %+v", got, set)
			}
			// NORMAL alone clears every attribute and reads back as NORMAL.
			if st := w.setBasic(g, basicInfo{attrs: fscc.FileAttributeNormal}); st != 0 {
				t.Fatal(st)
			}
			if got := w.basic(g).attrs; got != fscc.FileAttributeNormal {
				t.Fatalf("attributes %#x, want NORMAL", got)
			}
			// A change time this handle set is kept when it changes only
			// the attributes (MS-FSA 2.1.5.15.2, UserSetChangeTime).
			if st := w.setBasic(g, basicInfo{change: ft(5000)}); st != 0 {
				t.Fatal(st)
			}
			if st := w.setBasic(g, basicInfo{attrs: fscc.FileAttributeArchive}); st != 0 {
				t.Fatal(st)
			}
			if got := w.basic(g); got.change != ft(5000) || got.attrs != fscc.FileAttributeArchive {
				t.Fatalf("after attribute change: %+v", got)
			}
			w.closeFile(g)
		})
	}
}

// SetBasicInfo refuses what MS-FSA 2.1.5.15.2 refuses.
func TestBasicInfoInvalid(t *testing.T) {
	w := attrClient(t, vfs.NewMem())
	f := w.open("f", smb2.GenericAll, 0)
	if st := w.setBasic(f, basicInfo{write: ^uint64(2)}); st != smb2.StatusInvalidParameter {
		t.Errorf("time -3: %v, want INVALID_PARAMETER", st)
	}
	if st := w.setBasic(f, basicInfo{attrs: fscc.FileAttributeDirectory}); st != smb2.StatusInvalidParameter {
		t.Errorf("DIRECTORY on a file: %v, want INVALID_PARAMETER", st)
	}
	d := w.open("d", smb2.GenericAll, smb2.FileDirectoryFile)
	if st := w.setBasic(d, basicInfo{attrs: fscc.FileAttributeTemporary}); st != smb2.StatusInvalidParameter {
		t.Errorf("TEMPORARY on a directory: %v, want INVALID_PARAMETER", st)
	}
	if st := w.setBasic(d, basicInfo{attrs: fscc.FileAttributeHidden}); st != 0 {
		t.Fatal(st)
	}
	if got := w.basic(d).attrs; got != fscc.FileAttributeHidden|fscc.FileAttributeDirectory {
		t.Errorf("directory attributes %#x, want HIDDEN|DIRECTORY", got)
	}
	ro := w.open("ro", smb2.GenericAll, 0)
	if st := w.setBasic(ro, basicInfo{attrs: fscc.FileAttributeReadonly}); st != 0 {
		t.Fatal(st)
	}
	b := make([]byte, 1)
	b[0] = 1
	if st := w.setInfoRaw(ro, fscc.FileDispositionInformation, b); st != smb2.StatusCannotDelete {
		t.Errorf("delete of a read-only file: %v, want CANNOT_DELETE", st)
	}
}

func (w *wireClient) setInfoRaw(f smb2.FileID, class uint8, in []byte) smb2.Status {
	w.t.Helper()
	h, _ := w.roundTrip(smb2.SetInfo, setInfoBody(f, class, in), true, false)
	return smb2.Status(h.Status)
}

// FSCTL_GET/SET_COMPRESSION answer as Windows on a volume without
// compression; the object id is stable and names the file.
func TestCompressionAndObjectID(t *testing.T) {
	w := attrClient(t, vfs.NewMem())
	f := w.open("c", smb2.GenericAll, 0)
	st, out := w.ioctl(fsctlGetCompression, f, nil, 2)
	if st != 0 || len(out) != 2 || out[0] != 0 || out[1] != 0 {
		t.Fatalf("get compression: %v %x", st, out)
	}
	if st, _ := w.ioctl(fsctlSetCompression, f, []byte{1, 0}, 0); st != smb2.StatusNotSupported {
		t.Errorf("set DEFAULT: %v, want NOT_SUPPORTED", st)
	}
	if st, _ := w.ioctl(fsctlSetCompression, f, []byte{0, 0}, 0); st != 0 {
		t.Errorf("set NONE: %v", st)
	}
	if st, _ := w.ioctl(fsctlSetCompression, f, []byte{0}, 0); st != smb2.StatusInvalidParameter {
		t.Errorf("short set: %v", st)
	}
	st, id1 := w.ioctl(smb2.FsctlCreateOrGetObjectID, f, nil, 64)
	if st != 0 || len(id1) != 64 {
		t.Fatalf("create or get object id: %v %d", st, len(id1))
	}
	st, id2 := w.ioctl(fsctlGetObjectID, f, nil, 64)
	if st != 0 || string(id1) != string(id2) {
		t.Fatalf("get object id: %v, differs", st)
	}
	_, internal := w.queryInfo(f, fscc.FileInternalInformation, 8)
	if string(internal) != string(id1[:8]) {
		t.Errorf("object id %x does not carry the file id %x", id1[:8], internal)
	}
}

// A named stream reports its file's id, times and attributes.
func TestStreamSharesFileMeta(t *testing.T) {
	w := attrClient(t, vfs.NewMem())
	f := w.open("base", smb2.GenericAll, 0)
	if st := w.setBasic(f, basicInfo{creation: ft(1234), attrs: fscc.FileAttributeHidden}); st != 0 {
		t.Fatal(st)
	}
	s := w.open("base:str", smb2.GenericAll, 0)
	_, a := w.queryInfo(f, fscc.FileInternalInformation, 8)
	_, b := w.queryInfo(s, fscc.FileInternalInformation, 8)
	if string(a) != string(b) {
		t.Errorf("stream file id %x, file's %x", b, a)
	}
	if got := w.basic(s); got.creation != ft(1234) || got.attrs != fscc.FileAttributeHidden {
		t.Errorf("stream basic info %+v", got)
	}
}
