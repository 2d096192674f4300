package rpc

import (
	"testing"

	"github.com/cifsd/cifsd/internal/utf16le"
)

func openHKLM(t testing.TB, p *Pipe) [20]byte {
	t.Helper()
	w := &writer{}
	w.u32(0)
	w.u32(maximumAllowed)
	out, fault := invoke(t, p, 2, w.b)
	if fault != 0 || lastU32(out) != errSuccess {
		t.Fatalf("OpenHKLM: fault %#x werr %d", fault, lastU32(out))
	}
	return handleAt(t, out, 0)
}

func TestWinregReadsTheSyntheticTree(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "winreg", winregInterface, userCaller)
	hklm := openHKLM(t, p)

	openKey := func(path string) ([20]byte, uint32) {
		w := &writer{}
		w.handle(hklm)
		w.ustrIn(path + "\x00")
		w.u32(0)
		w.u32(0x20019) // KEY_READ
		out, fault := invoke(t, p, 15, w.b)
		if fault != 0 {
			t.Fatalf("OpenKey %s: fault %#x", path, fault)
		}
		return handleAt(t, out, 0), lastU32(out)
	}
	if _, werr := openKey(`SOFTWARE\Policies`); werr != errFileNotFound {
		t.Fatalf("missing key: werr %d, want ERROR_FILE_NOT_FOUND", werr)
	}
	key, werr := openKey(`software\Microsoft\Windows NT\CurrentVersion`)
	if werr != errSuccess {
		t.Fatalf("OpenKey: werr %d", werr)
	}

	query := func(name string, size uint32) ([]byte, uint32, uint32) {
		w := &writer{}
		w.handle(key)
		w.ustrIn(name + "\x00")
		w.ref()
		w.u32(0) // type
		w.ref()
		w.u32(size) // data: max
		w.u32(0)
		w.u32(0)
		w.ref()
		w.u32(size) // cbData
		w.ref()
		w.u32(0) // cbLen
		out, fault := invoke(t, p, 17, w.b)
		if fault != 0 {
			t.Fatalf("QueryValue %s: fault %#x", name, fault)
		}
		r := &reader{b: out}
		r.u32()
		typ := r.u32()
		r.u32()
		r.u32()
		r.u32()
		n := r.count(1 << 20)
		data := r.take(n)
		return data, typ, lastU32(out)
	}
	data, typ, werr := query("ProductName", 256)
	if werr != errSuccess || typ != regSZ || utf16le.Decode(data) != "cifsd\x00" {
		t.Fatalf("ProductName: werr %d type %d data %q", werr, typ, utf16le.Decode(data))
	}
	if _, _, werr := query("ProductName", 4); werr != errMoreData {
		t.Fatalf("small buffer: werr %d, want ERROR_MORE_DATA", werr)
	}
	if _, _, werr := query("NoSuchValue", 256); werr != errFileNotFound {
		t.Fatalf("missing value: werr %d", werr)
	}

	// The shares key lists the server's disk shares.
	w := &writer{}
	w.handle(hklm)
	w.ustrIn(`SYSTEM\CurrentControlSet\Services\LanmanServer\Shares` + "\x00")
	w.u32(0)
	w.u32(0x20019)
	out, _ := invoke(t, p, 15, w.b)
	shares := handleAt(t, out, 0)
	w = &writer{}
	w.handle(shares)
	w.u32(0)
	w.u16(0)
	w.u16(512)
	w.ref()
	w.u32(256)
	w.u32(0)
	w.u32(0)
	w.u32(0)
	w.u32(0)
	w.u32(0)
	w.u32(0)
	out, fault := invoke(t, p, 10, w.b)
	if fault != 0 || lastU32(out) != errSuccess {
		t.Fatalf("EnumValue 0: fault %#x werr %d", fault, lastU32(out))
	}
	r := &reader{b: out}
	if name := r.ustring(); name != "data\x00" {
		t.Fatalf("first share value %q", name)
	}
	w.b[20] = 1 // dwIndex 1: there is no second disk share
	if out, _ := invoke(t, p, 10, w.b); lastU32(out) != errNoMoreItems {
		t.Fatalf("EnumValue 1: werr %d", lastU32(out))
	}
}

func TestWinregRefusesChanges(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "winreg", winregInterface, adminCaller)
	w := &writer{}
	w.u32(0)
	w.u32(0x00000002) // KEY_SET_VALUE
	out, _ := invoke(t, p, 2, w.b)
	if lastU32(out) != errAccessDenied {
		t.Fatalf("OpenHKLM for writing: werr %d", lastU32(out))
	}
	hklm := openHKLM(t, p)
	w = &writer{}
	w.handle(hklm)
	w.ustrIn("x\x00")
	if out, _ := invoke(t, p, 8, w.b); lastU32(out) != errAccessDenied {
		t.Fatalf("DeleteValue: werr %d", lastU32(out))
	}
}
