package rpc

import (
	"context"
	"encoding/binary"
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
