package smb2

import (
	"bytes"
	"testing"
)

// msgWith returns a message: a header and body.
func msgWith(cmd Command, body []byte) []byte {
	h := Header{Command: cmd}
	b := make([]byte, HeaderSize, HeaderSize+len(body))
	h.Encode(b)
	return append(b, body...)
}

type decoder interface{ Decode([]byte) error }

func requestDecoders() []decoder {
	return []decoder{
		&NegotiateRequest{}, &SessionSetupRequest{}, &TreeConnectRequest{}, &CreateRequest{},
		&CloseRequest{}, &FlushRequest{}, &ReadRequest{}, &WriteRequest{}, &LockRequest{},
		&IoctlRequest{}, &QueryDirectoryRequest{}, &ChangeNotifyRequest{}, &QueryInfoRequest{},
		&SetInfoRequest{},
	}
}

// FuzzRequestDecoders feeds every request decoder the same bytes: none may
// panic, whatever the lengths and offsets say.
func FuzzRequestDecoders(f *testing.F) {
	neg := (&NegotiateResponse{SecurityBuffer: []byte{1, 2, 3},
		NegotiateContexts: []NegotiateContext{PreauthIntegrityCapabilities{HashAlgorithms: []uint16{1}, Salt: make([]byte, 32)}.Context()}})
	nb := make([]byte, neg.Size())
	neg.Encode(nb)
	f.Add(nb)
	cr := &CreateResponse{CreateContexts: []CreateContext{MxAcResponse{}.Context(), QFidResponse{}.Context()}}
	cb := make([]byte, cr.Size())
	cr.Encode(cb)
	f.Add(cb)
	f.Add(bytes.Repeat([]byte{0xFF}, 120))
	f.Add(make([]byte, 56))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := msgWith(Create, body)
		for _, d := range requestDecoders() {
			d.Decode(msg)
		}
		var v ValidateNegotiateInfoRequest
		v.Decode(body)
		var p PreauthIntegrityCapabilities
		p.Decode(body)
		var e EncryptionCapabilities
		e.Decode(body)
	})
}

func TestCreateContextsRoundTrip(t *testing.T) {
	ctxs := []CreateContext{{Name: "MxAc", Data: []byte{1, 2, 3}}, {Name: "QFid"}, {Name: "RqLs", Data: make([]byte, 32)}}
	b := make([]byte, createContextsSize(ctxs))
	putCreateContexts(b, ctxs)
	msg := append(make([]byte, HeaderSize), b...)
	got, err := decodeCreateContexts(msg, HeaderSize, uint32(len(b)))
	if err != nil || len(got) != 3 {
		t.Fatalf("decoded %d contexts, %v", len(got), err)
	}
	for i := range ctxs {
		if got[i].Name != ctxs[i].Name || !bytes.Equal(got[i].Data, ctxs[i].Data) {
			t.Fatalf("context %d: %+v, want %+v", i, got[i], ctxs[i])
		}
	}
}

func TestNegotiateContextsRoundTrip(t *testing.T) {
	r := &NegotiateResponse{DialectRevision: Dialect311, SecurityBuffer: []byte{9, 9, 9},
		NegotiateContexts: []NegotiateContext{
			PreauthIntegrityCapabilities{HashAlgorithms: []uint16{HashSHA512}, Salt: []byte{1, 2}}.Context(),
			EncryptionCapabilities{Ciphers: []uint16{CipherAES128GCM}}.Context(),
			SigningCapabilities{SigningAlgorithms: []uint16{SigningAESGMAC}}.Context(),
		}}
	b := make([]byte, r.Size())
	r.Encode(b)
	msg := append(make([]byte, HeaderSize), b...)
	off := le.Uint32(b[60:])
	if off%8 != 0 {
		t.Fatalf("context offset %d not 8-aligned", off)
	}
	got, err := decodeNegotiateContexts(msg, off, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %v", got, err)
	}
	var e EncryptionCapabilities
	if err := e.Decode(got[1].Data); err != nil || e.Ciphers[0] != CipherAES128GCM {
		t.Fatalf("cipher: %v %v", e, err)
	}
}
