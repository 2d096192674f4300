package ntlm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"testing"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/utf16le"
)

// v1Handshake runs an NTLMv1 exchange against m with the server challenge
// fixed to 0123456789abcdef (MS-NLMP 4.2.2's), sending lm and nt as the
// client's responses for User in Domain.
func v1Handshake(t *testing.T, m *Mechanism, flags uint32, lm, nt []byte) (*auth.Result, error) {
	t.Helper()
	ctx := context.Background()
	sc, _ := m.Start(ctx)
	neg := make([]byte, 32)
	copy(neg, Signature)
	binary.LittleEndian.PutUint32(neg[8:], 1)
	binary.LittleEndian.PutUint32(neg[12:], flags)
	if _, done, err := sc.Accept(ctx, neg); err != nil || done {
		t.Fatalf("NEGOTIATE: %v %v", done, err)
	}
	copy(sc.(*serverContext).serverChal[:], unhex("0123456789abcdef"))
	fields := [][]byte{lm, nt, utf16le.Encode("Domain"), utf16le.Encode("User"), utf16le.Encode("WS"), nil}
	msg := make([]byte, 72)
	copy(msg, Signature)
	binary.LittleEndian.PutUint32(msg[8:], 3)
	off := len(msg)
	for i, f := range fields {
		putField(msg[12+8*i:], len(f), off)
		off += len(f)
		msg = append(msg, f...)
	}
	binary.LittleEndian.PutUint32(msg[60:], flags)
	if _, _, err := sc.Accept(ctx, msg); err != nil {
		return nil, err
	}
	return sc.Result(), nil
}

// NTLMv1 is refused unless the mechanism admits it; admitted, both forms
// check the password and give the session key of MS-NLMP 4.2.2 and 4.2.3.
// The responses were computed by impacket's ntlm.computeResponseNTLMv1
// (and are the spec's example values).
func TestNTLMv1(t *testing.T) {
	const plain = flagUnicode | flagNTLM
	const ess = plain | flagESS
	plainNT := unhex("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")
	plainLM := unhex("98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13")
	essNT := unhex("7537f803ae367128ca458204bde7caf81e97ed2683267232")
	essLM := unhex("aaaaaaaaaaaaaaaa00000000000000000000000000000000")

	m := Users(Passwords(map[string]string{"User": "Password"}))
	if _, err := v1Handshake(t, m, plain, plainLM, plainNT); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("NTLMv1 by default: %v, want a logon failure", err)
	}

	var logs bytes.Buffer
	m.AllowNTLMv1 = true
	m.Logger = newTextLogger(&logs)
	res, err := v1Handshake(t, m, plain, plainLM, plainNT)
	if err != nil {
		t.Fatalf("NTLMv1 admitted: %v", err)
	}
	if res.User != "User" || !bytes.Equal(res.SessionKey, unhex("d87262b0cde4b1cb7499becccdf10784")) {
		t.Fatalf("NTLMv1 result %+v", res)
	}
	if !bytes.Contains(logs.Bytes(), []byte("insecure")) {
		t.Errorf("the NTLMv1 logon was not logged as insecure: %q", logs.String())
	}
	res, err = v1Handshake(t, m, ess, essLM, essNT)
	if err != nil {
		t.Fatalf("NTLMv1 with extended session security: %v", err)
	}
	if !bytes.Equal(res.SessionKey, unhex("eb93429a8bd952f8b89c55b87f475edc")) {
		t.Fatalf("NTLMv1 ESS session key %x", res.SessionKey)
	}
	// The ESS response checked as a plain one (and the reverse) fails:
	// the challenge differs.
	if _, err := v1Handshake(t, m, plain, essLM, essNT); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("ESS response without ESS: %v", err)
	}
	bad := bytes.Clone(plainNT)
	bad[0] ^= 1
	if _, err := v1Handshake(t, m, plain, plainLM, bad); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("wrong NTLMv1 response: %v", err)
	}
}

func newTextLogger(w *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// FuzzAcceptNTLMv1 feeds AUTHENTICATE messages to a mechanism that admits
// NTLMv1, after a NEGOTIATE with extended session security, so the NTLMv1
// path (24-byte responses, the LM response's client challenge) sees client
// bytes too.
func FuzzAcceptNTLMv1(f *testing.F) {
	msg := make([]byte, 72)
	copy(msg, Signature)
	binary.LittleEndian.PutUint32(msg[8:], 3)
	putField(msg[12:], 24, 72) // LM response
	putField(msg[20:], 24, 96) // NTLMv1 response
	putField(msg[36:], 2, 120) // user "a"
	msg = append(msg, make([]byte, 48)...)
	msg = append(msg, 'a', 0)
	f.Add(msg)
	short := bytes.Clone(msg)
	putField(short[12:], 4, 72) // an LM response too short for a client challenge
	f.Add(short)
	f.Fuzz(func(t *testing.T, b []byte) {
		m := Users(Passwords(map[string]string{"a": "b"}))
		m.AllowNTLMv1 = true
		m.Logger = newTextLogger(&bytes.Buffer{})
		sc, _ := m.Start(context.Background())
		neg := make([]byte, 16)
		copy(neg, Signature)
		binary.LittleEndian.PutUint32(neg[8:], 1)
		binary.LittleEndian.PutUint32(neg[12:], flagUnicode|flagNTLM|flagESS|flagKeyExch)
		sc.Accept(context.Background(), neg)
		if _, done, err := sc.Accept(context.Background(), b); done && err == nil {
			if r := sc.Result(); r == nil || (!r.Guest && !r.Anonymous && len(r.SessionKey) != 16) {
				t.Fatalf("logon without a session key: %+v", r)
			}
		}
	})
}
