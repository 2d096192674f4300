package rpc

import (
	"context"
	"testing"
)

// fuzzInterface feeds an interface's operations arbitrary stubs through
// the dispatcher: the first byte picks the opnum, the second says whether
// the stub starts with a handle the pipe really holds (so the decoders
// behind the handle checks are reached too), the rest is the stub. Any
// answer is fine; a panic, a hang or an unbounded allocation is not.
func fuzzInterface(f *testing.F, pipe string, iface *Interface, open func(t testing.TB, p *Pipe) [20]byte, seeds ...[]byte) {
	for op := range iface.ops {
		f.Add(uint8(op), true, []byte{})
		f.Add(uint8(op), true, make([]byte, 64))
		for _, s := range seeds {
			f.Add(uint8(op), false, s)
			f.Add(uint8(op), true, s)
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, withHandle bool, stub []byte) {
		s, _ := testServer()
		p := openBound(t, s, pipe, iface, adminCaller)
		var h [20]byte
		if open != nil {
			h = open(t, p)
		}
		if withHandle {
			stub = append(h[:], stub...)
		}
		p.callMu.Lock()
		defer p.callMu.Unlock()
		out, fault := p.dispatch(context.Background(), iface, uint16(op), stub)
		if fault == 0 && len(out) < 4 {
			t.Fatalf("opnum %d: %d-byte answer without a status", op, len(out))
		}
	})
}

func FuzzSrvsvc(f *testing.F) {
	fuzzInterface(f, "srvsvc", srvsvcInterface, nil, enumStub(nil, 1), enumStub(func(w *writer) { w.u32(0); w.u32(0) }, 502))
}

func FuzzWkssvc(f *testing.F) {
	fuzzInterface(f, "wkssvc", wkssvcInterface, nil, []byte{0, 0, 0, 0, 100, 0, 0, 0})
}

func FuzzLsarpc(f *testing.F) {
	w := &writer{}
	w.u32(2)
	w.u32(2)
	w.ustrHead("alice")
	w.ustrHead(`BUILTIN\Users`)
	w.ustrBody("alice")
	w.ustrBody(`BUILTIN\Users`)
	w.u32(0)
	w.u32(0)
	w.u16(1)
	w.u32(0)
	fuzzInterface(f, "lsarpc", lsarpcInterface, func(t testing.TB, p *Pipe) [20]byte {
		h, _ := p.handles.add(&lsaPolicy{granted: policyAllAccess})
		return h
	}, w.b)
}

func FuzzSamr(f *testing.F) {
	w := &writer{}
	w.u32(1)
	w.u32(1000)
	w.u32(0)
	w.u32(1)
	w.ustrHead("bob")
	w.ustrBody("bob")
	fuzzInterface(f, "samr", samrInterface, func(t testing.TB, p *Pipe) [20]byte {
		h, _ := p.handles.add(&samrDomain{sid: testDomain, name: "SRV"})
		return h
	}, w.b)
}

func FuzzWinreg(f *testing.F) {
	w := &writer{}
	w.ustrIn("ProductName\x00")
	w.ref()
	w.u32(0)
	w.ref()
	w.u32(16)
	w.u32(0)
	w.u32(0)
	w.ref()
	w.u32(16)
	w.ref()
	w.u32(0)
	fuzzInterface(f, "winreg", winregInterface, func(t testing.TB, p *Pipe) [20]byte {
		s, _ := testServer()
		h, _ := p.handles.add(&regHandle{key: s.hklm(context.Background()).path(`SOFTWARE\Microsoft\Windows NT\CurrentVersion`)})
		return h
	}, w.b, multipleValuesStub([20]byte{}, 16, "ProductName", "CurrentVersion")[20:])
}
