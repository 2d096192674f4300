package rpc

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

func bindPDU(iface [16]byte, major uint16) []byte {
	b := make([]byte, headerSize+12+4+20+20)
	header(b, ptypeBind, pfcFirstFrag|pfcLastFrag, 1)
	binary.LittleEndian.PutUint16(b[16:], 4280)
	binary.LittleEndian.PutUint16(b[18:], 4280)
	b[24] = 1 // one context
	e := b[28:]
	binary.LittleEndian.PutUint16(e, 0) // context id
	e[2] = 1                            // one transfer syntax
	copy(e[4:], iface[:])
	binary.LittleEndian.PutUint16(e[20:], major)
	copy(e[24:], ndrSyntax.uuid[:])
	binary.LittleEndian.PutUint32(e[40:], ndrSyntax.version)
	return b
}

func requestPDU(opnum uint16, stub []byte) []byte {
	b := make([]byte, headerSize+8+len(stub))
	header(b, ptypeRequest, pfcFirstFrag|pfcLastFrag, 2)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(stub)))
	binary.LittleEndian.PutUint16(b[22:], opnum)
	copy(b[24:], stub)
	return b
}

func TestShareEnum(t *testing.T) {
	s := &Server{Shares: func(context.Context) []ShareInfo {
		return []ShareInfo{{Name: "data", Comment: "files"}, {Name: "IPC$", Type: ShareTypeIPC | ShareTypeSpecial}}
	}}
	ctx := context.Background()
	p, err := s.Open(ctx, `\PIPE\srvsvc`, &Caller{User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(ctx, bindPDU(srvsvcInterface.uuid, 3)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _, err := p.Read(ctx, buf)
	if err != nil || buf[2] != ptypeBindAck {
		t.Fatalf("bind: type %d, %v", buf[2], err)
	}
	ack := buf[:n]
	secLen := int(binary.LittleEndian.Uint16(ack[24:]))
	res := ack[(26+secLen+3)&^3+4:]
	if binary.LittleEndian.Uint16(res) != 0 {
		t.Fatalf("context refused: result %d", binary.LittleEndian.Uint16(res))
	}

	w := &writer{}
	w.ref()
	w.str(`\\server`)
	w.u32(1) // level
	w.u32(1)
	w.ref()
	w.u32(0)
	w.u32(0)
	w.u32(0xFFFFFFFF)
	w.u32(0) // no resume handle
	if err := p.Write(ctx, requestPDU(15, w.b)); err != nil {
		t.Fatal(err)
	}
	n, more, err := p.Read(ctx, buf)
	if err != nil || more || buf[2] != ptypeResponse {
		t.Fatalf("response: type %d more %v err %v", buf[2], more, err)
	}
	r := &reader{b: buf[24:n]}
	if lvl := r.u32(); lvl != 1 {
		t.Fatalf("level %d", lvl)
	}
	r.u32()
	r.u32()
	count := r.u32()
	r.u32()
	if max := r.u32(); count != 2 || max != 2 {
		t.Fatalf("count %d max %d", count, max)
	}
	var types []uint32
	for i := 0; i < 2; i++ {
		r.u32()
		types = append(types, r.u32())
		r.u32()
	}
	names := []string{r.stringBody(), r.stringBody(), r.stringBody(), r.stringBody()}
	total := r.u32()
	r.u32()
	werr := r.u32()
	if r.err != nil || names[0] != "data" || names[1] != "files" || names[2] != "IPC$" || total != 2 || werr != 0 {
		t.Fatalf("decoded %q total %d werr %d err %v", names, total, werr, r.err)
	}
	if types[1] != ShareTypeIPC|ShareTypeSpecial {
		t.Fatalf("types %x", types)
	}

	// An unknown opnum faults.
	p.Write(ctx, requestPDU(99, nil))
	p.Read(ctx, buf)
	if buf[2] != ptypeFault || binary.LittleEndian.Uint32(buf[24:]) != ncaOpRangeError {
		t.Fatalf("unknown opnum: type %d", buf[2])
	}
}

func FuzzPipeWrite(f *testing.F) {
	f.Add(bindPDU(srvsvcInterface.uuid, 3))
	f.Add(requestPDU(15, []byte{1, 0, 2, 0}))
	f.Add(requestPDU(16, make([]byte, 40)))
	f.Add(requestPDU(21, make([]byte, 12)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &Server{Shares: func(context.Context) []ShareInfo { return []ShareInfo{{Name: "x"}} }}
		p, _ := s.Open(context.Background(), "srvsvc", &Caller{User: "u"})
		p.Write(context.Background(), bindPDU(srvsvcInterface.uuid, 3))
		p.Write(context.Background(), b)
		buf := make([]byte, 1024)
		for i := 0; i < 100; i++ {
			if _, _, err := p.Transceive(context.Background(), nil, buf); err != nil {
				break
			}
		}
	})
}

// A READ that arrives before the WRITE it answers (SMB runs requests on
// one handle concurrently) gets the response once it is computed.
func TestReadWaitsForTheResponse(t *testing.T) {
	s, _ := testServer()
	p := openBound(t, s, "srvsvc", srvsvcInterface, userCaller)
	ctx := context.Background()
	got := make(chan byte, 1)
	go func() {
		buf := make([]byte, 4096)
		if _, _, err := p.Read(ctx, buf); err != nil {
			got <- 0
			return
		}
		got <- buf[2]
	}()
	w := &writer{}
	w.u32(0)
	w.u32(101)
	if err := p.Write(ctx, requestPDU(21, w.b)); err != nil {
		t.Fatal(err)
	}
	if typ := <-got; typ != ptypeResponse {
		t.Fatalf("read got PDU type %d", typ)
	}
	// Closing the pipe ends a waiting Read.
	go func() {
		_, _, err := p.Read(ctx, make([]byte, 16))
		if err == nil {
			got <- 1
		} else {
			got <- 0
		}
	}()
	p.Close()
	if v := <-got; v != 0 {
		t.Fatal("read on a closed pipe returned data")
	}
}

// A request in several fragments is reassembled; a response larger than
// the negotiated fragment size comes back in several.
func TestFragmentation(t *testing.T) {
	s, _ := testServer()
	many := make([]ShareInfo, 200)
	for i := range many {
		many[i] = ShareInfo{Name: fmt.Sprintf("share%03d", i), Comment: strings.Repeat("c", 30)}
	}
	s.Shares = func(context.Context) []ShareInfo { return many }
	p := openBound(t, s, "srvsvc", srvsvcInterface, userCaller)
	stub := enumStub(nil, 1)
	ctx := context.Background()
	for i, part := range [][]byte{stub[:12], stub[12:]} {
		b := make([]byte, headerSize+8+len(part))
		flags := byte(pfcFirstFrag)
		if i == 1 {
			flags = pfcLastFrag
		}
		header(b, ptypeRequest, flags, 9)
		binary.LittleEndian.PutUint16(b[22:], 15)
		copy(b[24:], part)
		if err := p.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	frags, total := 0, 0
	buf := make([]byte, 8192)
	for {
		n, _, err := p.Read(ctx, buf)
		if err != nil || buf[2] != ptypeResponse {
			t.Fatalf("fragment %d: type %d err %v", frags, buf[2], err)
		}
		if n > 4280 {
			t.Fatalf("fragment of %d bytes, over the bound max_recv_frag", n)
		}
		frags++
		total += n - 24
		if buf[3]&pfcLastFrag != 0 {
			break
		}
	}
	if frags < 3 || total < 200*60 {
		t.Fatalf("%d fragments, %d stub bytes", frags, total)
	}
}

func TestWkstaGetInfoLevels(t *testing.T) {
	s, _ := testServer()
	for _, tc := range []struct {
		caller *Caller
		level  uint32
		want   uint32
	}{
		{nil, 100, errSuccess},
		{nil, 102, errAccessDenied},
		{userCaller, 102, errSuccess},
		{userCaller, 502, errSuccess},
		{userCaller, 103, errInvalidLevel},
	} {
		p := openBound(t, s, "wkssvc", wkssvcInterface, tc.caller)
		w := &writer{}
		w.u32(0)
		w.u32(tc.level)
		out, fault := invoke(t, p, 0, w.b)
		if fault != 0 || lastU32(out) != tc.want {
			t.Errorf("level %d: fault %#x werr %d, want %d", tc.level, fault, lastU32(out), tc.want)
		}
		if tc.level == 502 && len(out) != 4+4+35*4+4 {
			t.Errorf("WKSTA_INFO_502 answer of %d bytes", len(out))
		}
	}
}

// Each endpoint binds only its interfaces; lsarpc's endpoint serves samr
// too, as lsass does.
func TestEndpointsBindTheirInterfaces(t *testing.T) {
	s, _ := testServer()
	ctx := context.Background()
	bindResult := func(pipe string, iface *Interface) uint16 {
		p, err := s.Open(ctx, pipe, userCaller)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1024)
		n, _, err := p.Transceive(ctx, bindPDU(iface.uuid, iface.major), buf)
		if err != nil || buf[2] != ptypeBindAck {
			t.Fatalf("bind: %v", err)
		}
		ack := buf[:n]
		secLen := int(binary.LittleEndian.Uint16(ack[24:]))
		return binary.LittleEndian.Uint16(ack[(26+secLen+3)&^3+4:])
	}
	for _, tc := range []struct {
		pipe  string
		iface *Interface
		ok    bool
	}{
		{"lsarpc", lsarpcInterface, true},
		{"lsarpc", samrInterface, true},
		{"samr", samrInterface, true},
		{"srvsvc", lsarpcInterface, false},
		{"winreg", srvsvcInterface, false},
	} {
		if got := bindResult(tc.pipe, tc.iface) == 0; got != tc.ok {
			t.Errorf("%s on %s: accepted %v", tc.iface.Name, tc.pipe, got)
		}
	}
	if _, err := s.Open(ctx, "spoolss", userCaller); err == nil {
		t.Error("spoolss opened")
	}
}
