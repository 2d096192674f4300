package auth

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"testing"
)

// echoMech completes after one token, answering it reversed, with a fixed
// identity and a MIC that is the data itself.
type echoMech struct{ oid asn1.ObjectIdentifier }

func (m echoMech) OIDs() []asn1.ObjectIdentifier          { return []asn1.ObjectIdentifier{m.oid} }
func (m echoMech) Start(context.Context) (Context, error) { return &echoCtx{}, nil }

type echoCtx struct{ done bool }

func (c *echoCtx) Accept(_ context.Context, in []byte) ([]byte, bool, error) {
	if bytes.Equal(in, []byte("bad")) {
		return nil, false, ErrLogonFailure
	}
	c.done = true
	return []byte("ok"), true, nil
}
func (c *echoCtx) Result() *Result { return &Result{Identity: Identity{User: "u"}} }
func (c *echoCtx) MIC(data []byte) []byte {
	return append([]byte("mic:"), data...)
}
func (c *echoCtx) VerifyMIC(data, mic []byte) error {
	if !bytes.Equal(mic, c.MIC(data)) {
		return ErrLogonFailure
	}
	return nil
}

// initToken builds a client's NegTokenInit.
func initToken(oids []asn1.ObjectIdentifier, token, mic []byte) []byte {
	mt, _ := asn1.Marshal(oids)
	body := wrapTag(0xA0, mt)
	if token != nil {
		body = append(body, wrapTag(0xA2, wrapTag(0x04, token))...)
	}
	if mic != nil {
		body = append(body, wrapTag(0xA3, wrapTag(0x04, mic))...)
	}
	return gssWrap(wrapTag(0xA0, wrapTag(0x30, body)))
}

func TestNegotiateOptimistic(t *testing.T) {
	n := Negotiate(echoMech{OIDNTLMSSP})
	var init struct {
		MechTypes []asn1.ObjectIdentifier `asn1:"explicit,tag:0"`
	}
	var app asn1.RawValue
	asn1.Unmarshal(n.InitialToken(), &app)
	var oid asn1.ObjectIdentifier
	rest, _ := asn1.Unmarshal(app.Bytes, &oid)
	if _, err := asn1.UnmarshalWithParams(rest, &init, "explicit,tag:0"); err != nil || !init.MechTypes[0].Equal(OIDNTLMSSP) {
		t.Fatalf("initial token does not offer NTLMSSP: %v %v", init.MechTypes, err)
	}

	ctx := context.Background()
	c, _ := n.Start(ctx)
	oids := []asn1.ObjectIdentifier{OIDNTLMSSP}
	mt, _ := asn1.Marshal(oids)
	out, done, err := c.Accept(ctx, initToken(oids, []byte("hello"), append([]byte("mic:"), mt...)))
	if err != nil || !done {
		t.Fatalf("accept: done=%v err=%v", done, err)
	}
	var resp negTokenResp
	if _, err := asn1.UnmarshalWithParams(out, &resp, "explicit,tag:1"); err != nil {
		t.Fatal(err)
	}
	if resp.NegState != acceptCompleted || !resp.SupportedMech.Equal(OIDNTLMSSP) ||
		string(resp.ResponseToken) != "ok" || !bytes.Equal(resp.MechListMIC, append([]byte("mic:"), mt...)) {
		t.Fatalf("response %+v", resp)
	}
	if c.Result().User != "u" {
		t.Fatal("no result")
	}
}

func TestNegotiateBadMIC(t *testing.T) {
	n := Negotiate(echoMech{OIDNTLMSSP})
	c, _ := n.Start(context.Background())
	oids := []asn1.ObjectIdentifier{OIDNTLMSSP}
	if _, _, err := c.Accept(context.Background(), initToken(oids, []byte("x"), []byte("forged"))); !errors.Is(err, ErrLogonFailure) {
		t.Fatalf("forged mechListMIC: %v", err)
	}
}

func TestNegotiateOtherMechFirst(t *testing.T) {
	n := Negotiate(echoMech{OIDNTLMSSP})
	c, _ := n.Start(context.Background())
	out, done, err := c.Accept(context.Background(),
		initToken([]asn1.ObjectIdentifier{OIDKerberos, OIDNTLMSSP}, []byte("krb"), nil))
	if err != nil || done {
		t.Fatalf("done=%v err=%v", done, err)
	}
	var resp negTokenResp
	asn1.UnmarshalWithParams(out, &resp, "explicit,tag:1")
	if resp.NegState != acceptIncomplete || !resp.SupportedMech.Equal(OIDNTLMSSP) {
		t.Fatalf("response %+v", resp)
	}
}

func FuzzNegotiateAccept(f *testing.F) {
	f.Add(initToken([]asn1.ObjectIdentifier{OIDNTLMSSP}, []byte("x"), nil))
	f.Add([]byte{0xA1, 0x05, 0x30, 0x03, 0xA0, 0x01, 0x00})
	f.Add([]byte("NTLMSSP\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := Negotiate(echoMech{OIDNTLMSSP})
		c, _ := n.Start(context.Background())
		c.Accept(context.Background(), b)
		c.Accept(context.Background(), b)
	})
}
