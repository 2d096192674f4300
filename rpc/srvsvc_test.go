package rpc

import (
	"bytes"
	"testing"

	"github.com/cifsd/cifsd/internal/utf16le"
)

// enumStub is a NetrXxxEnum request tail: level, empty container, no
// preferred maximum, no resume handle; pre writes what comes before.
func enumStub(pre func(w *writer), level uint32) []byte {
	w := &writer{}
	w.u32(0) // ServerName
	if pre != nil {
		pre(w)
	}
	w.u32(level)
	w.u32(level)
	w.ref()
	w.u32(0)
	w.u32(0)
	w.u32(0xFFFFFFFF)
	w.u32(0)
	return w.b
}

func TestSrvsvcSessionEnumNeedsAdminForDetail(t *testing.T) {
	s, _ := testServer()
	noFilter := func(w *writer) { w.u32(0); w.u32(0) }
	for _, tc := range []struct {
		caller *Caller
		level  uint32
		want   uint32
	}{
		{userCaller, 10, errSuccess},
		{userCaller, 502, errAccessDenied},
		{adminCaller, 502, errSuccess},
		{adminCaller, 7, errInvalidLevel},
	} {
		p := openBound(t, s, "srvsvc", srvsvcInterface, tc.caller)
		out, fault := invoke(t, p, 12, enumStub(noFilter, tc.level))
		if fault != 0 || lastU32(out) != tc.want {
			t.Errorf("%s level %d: fault %#x werr %d, want %d", tc.caller.User, tc.level, fault, lastU32(out), tc.want)
			continue
		}
		if tc.want == errSuccess && !bytes.Contains(out, utf16le.Encode(`\\10.0.0.2`)) {
			t.Errorf("level %d does not name bob's client", tc.level)
		}
	}
}

func TestSrvsvcFileCloseIsForAdmins(t *testing.T) {
	s, st := testServer()
	closeStub := func(id uint32) []byte {
		w := &writer{}
		w.u32(0)
		w.u32(id)
		return w.b
	}
	p := openBound(t, s, "srvsvc", srvsvcInterface, userCaller)
	if out, _ := invoke(t, p, 11, closeStub(7)); lastU32(out) != errAccessDenied || len(st.closed) != 0 {
		t.Fatalf("ordinary user: werr %d, closed %v", lastU32(out), st.closed)
	}
	noFilter := func(w *writer) { w.u32(0); w.u32(0) }
	if out, _ := invoke(t, p, 9, enumStub(noFilter, 3)); lastU32(out) != errAccessDenied {
		t.Fatalf("ordinary user's NetrFileEnum: werr %d", lastU32(out))
	}

	p = openBound(t, s, "srvsvc", srvsvcInterface, adminCaller)
	out, _ := invoke(t, p, 9, enumStub(noFilter, 3))
	if lastU32(out) != errSuccess || !bytes.Contains(out, utf16le.Encode(`C:\data\a.txt`)) {
		t.Fatalf("NetrFileEnum 3: werr %d", lastU32(out))
	}
	if out, _ := invoke(t, p, 11, closeStub(7)); lastU32(out) != errSuccess || len(st.closed) != 1 || st.closed[0] != 7 {
		t.Fatalf("admin close: werr %d, closed %v", lastU32(out), st.closed)
	}
	if out, _ := invoke(t, p, 11, closeStub(8)); lastU32(out) != errFileIDNotFound {
		t.Fatalf("close of an unknown id: werr %d", lastU32(out))
	}
}

func TestSrvsvcSessionDel(t *testing.T) {
	s, st := testServer()
	del := func(p *Pipe, user string) uint32 {
		w := &writer{}
		w.u32(0)
		w.u32(0)
		w.ref()
		w.str(user)
		out, _ := invoke(t, p, 13, w.b)
		return lastU32(out)
	}
	if werr := del(openBound(t, s, "srvsvc", srvsvcInterface, userCaller), "alice"); werr != errAccessDenied || len(st.ended) != 0 {
		t.Fatalf("ordinary user: werr %d, ended %v", werr, st.ended)
	}
	p := openBound(t, s, "srvsvc", srvsvcInterface, adminCaller)
	if werr := del(p, "bob"); werr != errSuccess || len(st.ended) != 1 || st.ended[0] != "bob" {
		t.Fatalf("admin: werr %d, ended %v", werr, st.ended)
	}
	if werr := del(p, "nobody"); werr != errUserNotFound {
		t.Fatalf("unknown user: werr %d", werr)
	}
}

func TestSrvsvcShareGetInfoLevels(t *testing.T) {
	s, _ := testServer()
	get := func(c *Caller, level uint32) []byte {
		p := openBound(t, s, "srvsvc", srvsvcInterface, c)
		w := &writer{}
		w.u32(0)
		w.str("DATA")
		w.u32(level)
		out, fault := invoke(t, p, 16, w.b)
		if fault != 0 {
			t.Fatalf("level %d: fault %#x", level, fault)
		}
		return out
	}
	for _, level := range []uint32{0, 1, 2, 501, 502, 1005} {
		if out := get(userCaller, level); lastU32(out) != errSuccess {
			t.Errorf("level %d: werr %d", level, lastU32(out))
		}
	}
	out := get(userCaller, 502)
	if !bytes.Contains(out, utf16le.Encode(`C:\data`)) {
		t.Errorf("level 502 has no path")
	}
	if out := get(nil, 502); lastU32(out) != errAccessDenied {
		t.Errorf("null session level 502: werr %d", lastU32(out))
	}
	if out := get(userCaller, 3); lastU32(out) != errInvalidLevel {
		t.Errorf("level 3: werr %d", lastU32(out))
	}
}
