package smb

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/binary"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// twoLegMech takes "more" and then a token of tokenMech's: an exchange with
// an interim (MORE_PROCESSING_REQUIRED) leg.
type twoLegMech struct{}

func (twoLegMech) OIDs() []asn1.ObjectIdentifier { return []asn1.ObjectIdentifier{{1, 2, 3}} }
func (twoLegMech) Start(context.Context) (auth.Context, error) {
	return &twoLegCtx{}, nil
}

type twoLegCtx struct {
	started bool
	tokenCtx
}

func (c *twoLegCtx) Accept(ctx context.Context, in []byte) ([]byte, bool, error) {
	if !c.started && string(in) == "more" {
		c.started = true
		return []byte("go on"), false, nil
	}
	return c.tokenCtx.Accept(ctx, in)
}

// setupBody is a SESSION_SETUP request body carrying tok.
func setupBody(tok string) []byte {
	b := make([]byte, 24+len(tok))
	binary.LittleEndian.PutUint16(b, 25)
	binary.LittleEndian.PutUint16(b[12:], smb2.HeaderSize+24)
	binary.LittleEndian.PutUint16(b[14:], uint16(len(tok)))
	copy(b[24:], tok)
	return b
}

// With signing required, a signed re-authentication is answered signed on
// every leg: the interim MORE_PROCESSING_REQUIRED, a failure, a success. A
// client that requires signing (smbtorture's reauth tests, Windows renewing
// a Kerberos ticket) takes no unsigned answer.
func TestSignedReauthAnsweredSigned(t *testing.T) {
	srv := &Server{Shares: []Share{{Name: "s", FS: vfs.NewMem()}}, Auth: twoLegMech{}}
	t.Cleanup(func() { srv.Close() })
	w := dial(t, srv)
	w.mustSetup("alice", 0)
	w.useSessionKey()

	leg := func(tok string) (smb2.Status, bool) {
		h, resp := w.roundTrip(smb2.SessionSetup, setupBody(tok), true, false)
		return smb2.Status(h.Status), h.Flags&smb2.FlagsSigned != 0 && w.signer.Verify(resp)
	}
	if st, signed := leg("more"); st != smb2.StatusMoreProcessingRequired || !signed {
		t.Fatalf("interim leg: %v, signed %v; want a signed MORE_PROCESSING_REQUIRED", st, signed)
	}
	if st, signed := leg("alice"); st != smb2.StatusSuccess || !signed {
		t.Fatalf("final leg: %v, signed %v; want a signed SUCCESS", st, signed)
	}
	if st, signed := leg("bad"); st != smb2.StatusLogonFailure || !signed {
		t.Fatalf("failed re-authentication: %v, signed %v; want a signed LOGON_FAILURE", st, signed)
	}
	// The failure ended the session (MS-SMB2 3.3.5.5.3).
	if st := w.status(smb2.TreeConnect, nil); st != smb2.StatusUserSessionDeleted {
		t.Fatalf("after the failed re-authentication: %v", st)
	}
}

// A signed request naming a session the server does not know gets
// USER_SESSION_DELETED carrying the request's own signature and the
// SIGNED flag, as Samba answers; a signing client takes that, where an
// unsigned answer becomes ACCESS_DENIED to it (smb2.session-id).
func TestUnknownSessionEchoesSignature(t *testing.T) {
	srv := newTokenServer(t)
	srv.Signing = SigningRequired
	w := dial(t, srv)
	w.mustSetup("alice", 0)
	w.useSessionKey()
	if st := w.tcon("s"); st != smb2.StatusSuccess {
		t.Fatal(st)
	}
	w.sid += 1234
	mid := w.send(smb2.Create, createBody("x"))
	h, resp := w.recvFinal(mid)
	if st := smb2.Status(h.Status); st != smb2.StatusUserSessionDeleted {
		t.Fatalf("unknown session: %v", st)
	}
	if h.Flags&smb2.FlagsSigned == 0 {
		t.Fatal("the answer does not carry the SIGNED flag")
	}
	req := make([]byte, smb2.HeaderSize+len(createBody("x")))
	(&smb2.Header{Command: smb2.Create, Credits: 10, CreditCharge: 1, MessageID: mid, SessionID: w.sid, TreeID: w.tid}).Encode(req)
	copy(req[smb2.HeaderSize:], createBody("x"))
	w.signer.Sign(req)
	if !bytes.Equal(resp[48:64], req[48:64]) {
		t.Fatalf("signature %x, want the request's %x", resp[48:64], req[48:64])
	}
}
