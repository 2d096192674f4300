package auth

import (
	"bytes"
	"context"
	"encoding/asn1"
	"fmt"
	"sync"
)

// SPNEGO's OID (RFC 4178) and the mechanisms' OIDs it is commonly seen with.
var (
	OIDSPNEGO       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}
	OIDNTLMSSP      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
	OIDKerberos     = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}
	OIDMSKerberos   = asn1.ObjectIdentifier{1, 2, 840, 48018, 1, 2, 2}
	ntlmsspSigPrefx = []byte("NTLMSSP\x00")
)

// negState values (RFC 4178 4.2.2).
const (
	acceptCompleted  = 0
	acceptIncomplete = 1
	reject           = 2
)

// Negotiator offers several mechanisms through SPNEGO (RFC 4178, MS-SPNG).
// It is itself a Mechanism.
type Negotiator struct {
	mechs []Mechanism
	init  []byte
}

// Negotiate returns a negotiator offering mechs, preferred first.
func Negotiate(mechs ...Mechanism) *Negotiator {
	n := &Negotiator{mechs: mechs}
	n.init = n.buildInitialToken()
	return n
}

// OIDs returns SPNEGO's OID.
func (n *Negotiator) OIDs() []asn1.ObjectIdentifier { return []asn1.ObjectIdentifier{OIDSPNEGO} }

// InitialToken is the NegTokenInit2 a server puts in its NEGOTIATE response
// (MS-SPNG 2.2.1): every mechanism's OIDs and the negHints Windows sends.
func (n *Negotiator) InitialToken() []byte { return n.init }

func (n *Negotiator) buildInitialToken() []byte {
	var oids []asn1.ObjectIdentifier
	for _, m := range n.mechs {
		oids = append(oids, m.OIDs()...)
	}
	mechTypes, err := asn1.Marshal(oids)
	if err != nil {
		panic(err) // static input
	}
	// negHints [3] { hintName [0] GeneralString } (MS-SPNG 2.2.1); built by
	// hand because encoding/asn1 has no GeneralString.
	hint := wrapTag(0x1B, []byte("not_defined_in_RFC4178@please_ignore"))
	hints := wrapTag(0xA3, wrapTag(0x30, wrapTag(0xA0, hint)))
	body := append(wrapTag(0xA0, mechTypes), hints...)
	return gssWrap(wrapTag(0xA0, wrapTag(0x30, body)))
}

// gssWrap wraps an inner token in the GSS-API InitialContextToken with
// SPNEGO's OID (RFC 2743 3.1).
func gssWrap(inner []byte) []byte { return InitialContextToken(OIDSPNEGO, inner) }

// InitialContextToken frames a mechanism's token as RFC 2743 3.1's
// InitialContextToken: [APPLICATION 0] { thisMech OID, innerToken }.
// Kerberos frames its AP-REP so too (RFC 4121 4.1).
func InitialContextToken(mech asn1.ObjectIdentifier, inner []byte) []byte {
	oid, _ := asn1.Marshal(mech)
	return wrapTag(0x60, append(oid, inner...))
}

// wrapTag encodes a DER TLV with tag t around b.
func wrapTag(t byte, b []byte) []byte {
	out := []byte{t}
	switch n := len(b); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, b...)
}

// Start begins a SPNEGO exchange.
func (n *Negotiator) Start(ctx context.Context) (Context, error) {
	return &negContext{n: n}, nil
}

type negContext struct {
	n         *Negotiator
	mu        sync.Mutex
	mech      Mechanism
	inner     Context
	mechOID   asn1.ObjectIdentifier
	mechTypes []byte // DER of the client's MechTypeList, for mechListMIC
	raw       bool   // raw NTLMSSP, no SPNEGO framing
	first     bool   // the next reply is the first (carries supportedMech)
}

type negTokenInit struct {
	MechTypes   []asn1.ObjectIdentifier `asn1:"explicit,tag:0"`
	ReqFlags    asn1.BitString          `asn1:"explicit,optional,tag:1"`
	MechToken   []byte                  `asn1:"explicit,optional,tag:2"`
	MechListMIC []byte                  `asn1:"explicit,optional,tag:3"`
}

type negTokenResp struct {
	NegState      asn1.Enumerated       `asn1:"explicit,optional,tag:0"`
	SupportedMech asn1.ObjectIdentifier `asn1:"explicit,optional,tag:1"`
	ResponseToken []byte                `asn1:"explicit,optional,tag:2"`
	MechListMIC   []byte                `asn1:"explicit,optional,tag:3"`
}

func (c *negContext) Result() *Result {
	if c.inner == nil {
		return nil
	}
	return c.inner.Result()
}

func (c *negContext) mechFor(oid asn1.ObjectIdentifier) Mechanism {
	for _, m := range c.n.mechs {
		for _, o := range m.OIDs() {
			if o.Equal(oid) {
				return m
			}
		}
	}
	return nil
}

// Accept consumes one client token.
func (c *negContext) Accept(ctx context.Context, in []byte) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil && bytes.HasPrefix(in, ntlmsspSigPrefx) {
		m := c.mechFor(OIDNTLMSSP)
		if m == nil {
			return nil, false, fmt.Errorf("%w: raw NTLMSSP without an NTLM mechanism", ErrInvalidToken)
		}
		inner, err := m.Start(ctx)
		if err != nil {
			return nil, false, err
		}
		c.mech, c.inner, c.raw = m, inner, true
	}
	if c.raw {
		return c.inner.Accept(ctx, in)
	}
	if c.inner == nil {
		return c.acceptInit(ctx, in)
	}
	return c.acceptResp(ctx, in)
}

// acceptInit handles the client's NegTokenInit (RFC 4178 4.2.1).
func (c *negContext) acceptInit(ctx context.Context, in []byte) ([]byte, bool, error) {
	var app asn1.RawValue
	rest, err := asn1.Unmarshal(in, &app)
	if err != nil || len(rest) != 0 || app.Class != asn1.ClassApplication || app.Tag != 0 {
		return nil, false, fmt.Errorf("%w: not a GSS-API initial token", ErrInvalidToken)
	}
	var oid asn1.ObjectIdentifier
	body, err := asn1.Unmarshal(app.Bytes, &oid)
	if err != nil || !oid.Equal(OIDSPNEGO) {
		return nil, false, fmt.Errorf("%w: not SPNEGO", ErrInvalidToken)
	}
	var tok negTokenInit
	if _, err := asn1.UnmarshalWithParams(body, &tok, "explicit,tag:0"); err != nil {
		return nil, false, fmt.Errorf("%w: NegTokenInit: %v", ErrInvalidToken, err)
	}
	oids := tok.MechTypes
	if len(oids) == 0 {
		return nil, false, fmt.Errorf("%w: MechTypes", ErrInvalidToken)
	}
	// The mechListMIC covers the DER of MechTypeList; DER is canonical, so
	// re-encoding yields the client's bytes.
	if c.mechTypes, err = asn1.Marshal(oids); err != nil {
		return nil, false, fmt.Errorf("%w: MechTypes", ErrInvalidToken)
	}
	for i, o := range oids {
		m := c.mechFor(o)
		if m == nil {
			continue
		}
		inner, err := m.Start(ctx)
		if err != nil {
			return nil, false, err
		}
		c.mech, c.inner, c.mechOID, c.first = m, inner, o, true
		if i != 0 || len(tok.MechToken) == 0 {
			// The optimistic token was for a mechanism we lack: ask the
			// client to start over with ours (RFC 4178 3.2 step 4).
			return c.reply(acceptIncomplete, nil, nil), false, nil
		}
		return c.step(ctx, tok.MechToken, tok.MechListMIC)
	}
	return nil, false, fmt.Errorf("%w: no common mechanism", ErrAccessDenied)
}

// acceptResp handles a NegTokenResp from the client.
func (c *negContext) acceptResp(ctx context.Context, in []byte) ([]byte, bool, error) {
	var tok negTokenResp
	if _, err := asn1.UnmarshalWithParams(in, &tok, "explicit,tag:1"); err != nil {
		return nil, false, fmt.Errorf("%w: NegTokenResp: %v", ErrInvalidToken, err)
	}
	return c.step(ctx, tok.ResponseToken, tok.MechListMIC)
}

// step runs the inner mechanism and wraps its answer.
func (c *negContext) step(ctx context.Context, token, clientMIC []byte) ([]byte, bool, error) {
	out, done, err := c.inner.Accept(ctx, token)
	if err != nil {
		return nil, false, err
	}
	if !done {
		return c.reply(acceptIncomplete, out, nil), false, nil
	}
	var mic []byte
	if micer, ok := c.inner.(MICer); ok && len(clientMIC) > 0 {
		// MS-SPNG 3.1.5.1: check the client's mechListMIC over its
		// MechTypeList, and answer with ours over the same bytes.
		if err := micer.VerifyMIC(c.mechTypes, clientMIC); err != nil {
			return nil, false, err
		}
		mic = micer.MIC(c.mechTypes)
	}
	return c.reply(acceptCompleted, out, mic), true, nil
}

// reply encodes a NegTokenResp. It is built by hand because negState
// accept-completed is 0, which encoding/asn1 would omit as "optional".
func (c *negContext) reply(state int, token, mic []byte) []byte {
	var body []byte
	body = append(body, wrapTag(0xA0, []byte{0x0A, 0x01, byte(state)})...)
	if c.first {
		oid, _ := asn1.Marshal(c.mechOID)
		body = append(body, wrapTag(0xA1, oid)...)
		c.first = false
	}
	if len(token) > 0 {
		body = append(body, wrapTag(0xA2, wrapTag(0x04, token))...)
	}
	if len(mic) > 0 {
		body = append(body, wrapTag(0xA3, wrapTag(0x04, mic))...)
	}
	return wrapTag(0xA1, wrapTag(0x30, body))
}
