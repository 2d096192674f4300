package smb

import (
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// createRaw sends a CREATE of name with the given fields and one create
// context (none when ctxName is ""); it returns the status.
func (w *wireClient) createRaw(name string, access, attrs, disp, options uint32, ctxName string, ctxData []byte) smb2.Status {
	w.t.Helper()
	b := createBody(name)
	le32(b[24:], access)
	le32(b[28:], attrs)
	le32(b[32:], shareAll)
	le32(b[36:], disp)
	le32(b[40:], options)
	if ctxName != "" {
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
		off := len(b)
		c := make([]byte, 16+8+len(ctxData))
		le16(c[4:], 16)
		le16(c[6:], uint16(len(ctxName)))
		copy(c[16:], ctxName)
		if len(ctxData) > 0 {
			le16(c[10:], 24)
			le32(c[12:], uint32(len(ctxData)))
			copy(c[24:], ctxData)
		}
		b = append(b, c...)
		le32(b[48:], uint32(smb2.HeaderSize+off))
		le32(b[52:], uint32(len(c)))
	}
	h, resp := w.roundTrip(smb2.Create, b, true, false)
	if h.Status == 0 {
		body := resp[smb2.HeaderSize:]
		w.closeFile(smb2.FileID{Persistent: binary.LittleEndian.Uint64(body[64:]), Volatile: binary.LittleEndian.Uint64(body[72:])})
	}
	return smb2.Status(h.Status)
}

// CREATE refuses what Windows refuses before opening anything: reserved
// options, options SMB2 does not carry, rights no file has, attributes a
// file cannot be given, a context name shorter than 4 bytes, a previous
// version (there are none).
func TestCreateRefusals(t *testing.T) {
	w := attrClient(t, vfs.NewMem())
	const all = smb2.GenericAll
	if st := w.createRaw("f", all, 0, smb2.FileCreate, 0, "", nil); st != 0 {
		t.Fatal(st)
	}
	stamp := make([]byte, 8)
	for _, c := range []struct {
		what                        string
		access, attrs, disp, option uint32
		ctx                         string
		want                        smb2.Status
	}{
		{"reserved option", all, 0, smb2.FileOpenIf, 0x10000000, "", smb2.StatusInvalidParameter},
		{"open by file id", all, 0, smb2.FileOpenIf, smb2.FileOpenByFileID, "", smb2.StatusNotSupported},
		{"reserve opfilter", all, 0, smb2.FileOpenIf, smb2.FileReserveOpfilter, "", smb2.StatusNotSupported},
		{"reserved right", 0x08000000, 0, smb2.FileOpenIf, 0, "", smb2.StatusAccessDenied},
		{"specific right 0x200", 0x200, 0, smb2.FileOpenIf, 0, "", smb2.StatusAccessDenied},
		{"volume attribute", all, 0x8, smb2.FileOpen, 0, "", smb2.StatusInvalidParameter},
		{"device attribute", all, 0x40, smb2.FileOverwriteIf, 0, "", smb2.StatusInvalidParameter},
		{"attribute 0x10000", all, 0x10000, smb2.FileOpenIf, 0, "", smb2.StatusInvalidParameter},
		{"3-byte context name", all, 0, smb2.FileOpenIf, 0, "xxx", smb2.StatusInvalidParameter},
		{"unknown 4-byte context", all, 0, smb2.FileOpenIf, 0, "FooO", 0},
		{"previous version", all, 0, smb2.FileOpenIf, 0, smb2.CreateTimewarpToken, smb2.StatusObjectNameNotFound},
		{"hidden and archive", all, fscc.FileAttributeHidden | fscc.FileAttributeArchive, smb2.FileOpenIf, 0, "", 0},
	} {
		var data []byte
		if c.ctx == smb2.CreateTimewarpToken {
			data = stamp
		}
		if st := w.createRaw("f", c.access, c.attrs, c.disp, c.option, c.ctx, data); st != c.want {
			t.Errorf("%s: %v, want %v", c.what, st, c.want)
		}
	}
}

// FileModeInformation takes WRITE_THROUGH and SEQUENTIAL_ONLY; other bits,
// or the synchronous ones on an open that lacks them, are refused.
func TestModeInformation(t *testing.T) {
	w := attrClient(t, vfs.NewMem())
	st, f := w.createWith("f", smb2.GenericAll, shareAll, smb2.FileCreate, 0)
	if st != 0 {
		t.Fatal(st)
	}
	set := func(m uint32) smb2.Status {
		b := make([]byte, 4)
		binary.LittleEndian.PutUint32(b, m)
		return w.setInfoRaw(f, fscc.FileModeInformation, b)
	}
	mode := func() uint32 {
		st, out := w.queryInfo(f, fscc.FileModeInformation, 4)
		if st != 0 {
			t.Fatal(st)
		}
		return binary.LittleEndian.Uint32(out)
	}
	if st := set(2); st != 0 || mode() != 2 {
		t.Errorf("mode 2: %v, now %#x", st, mode())
	}
	for _, m := range []uint32{1, 0x10, 0x1000} {
		if st := set(m); st != smb2.StatusInvalidParameter {
			t.Errorf("mode %#x: %v", m, st)
		}
	}
	if st := set(0); st != 0 || mode() != 0 {
		t.Errorf("mode 0: %v, now %#x", st, mode())
	}
	w.closeFile(f)
}
