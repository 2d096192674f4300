package krb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/cifsd/cifsd/auth"
)

const (
	realm   = "TEST.REALM"
	service = "cifs/srv.test.realm"
)

// kdc plays the KDC: it issues service tickets encrypted in a keytab's keys.
type kdc struct {
	kt *keytab.Keytab
}

func newKDC(t *testing.T) *kdc {
	t.Helper()
	kt := keytab.New()
	now := time.Now()
	for _, e := range []struct {
		princ, pw string
		kvno      uint8
	}{
		{service, "old-secret", 1},
		{service, "new-secret", 2},
		{"cifs/other.test.realm", "other-secret", 1},
	} {
		if err := kt.AddEntry(e.princ, realm, e.pw, now, e.kvno, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
			t.Fatal(err)
		}
	}
	return &kdc{kt: kt}
}

// serverKeytab holds only the service's keys, both versions.
func (k *kdc) serverKeytab() *keytab.Keytab {
	kt := keytab.New()
	for _, e := range k.kt.Entries {
		if e.Principal.Components[1] == "srv.test.realm" {
			kt.Entries = append(kt.Entries, e)
		}
	}
	return kt
}

type ticketOpts struct {
	sname     string
	kvno      int
	start     time.Time
	end       time.Time
	ctime     time.Time
	noMutual  bool
	noSubkey  bool
	clientNam string
}

// apReq builds the GSS-wrapped AP-REQ a client would send, and returns the
// ticket session key and the authenticator's subkey.
func (k *kdc) apReq(t *testing.T, o ticketOpts) (tok []byte, sessKey, subkey types.EncryptionKey) {
	t.Helper()
	now := time.Now()
	if o.sname == "" {
		o.sname = service
	}
	if o.kvno == 0 {
		o.kvno = 2
	}
	if o.start.IsZero() {
		o.start = now.Add(-time.Minute)
	}
	if o.end.IsZero() {
		o.end = now.Add(time.Hour)
	}
	if o.clientNam == "" {
		o.clientNam = "alice"
	}
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, o.clientNam)
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, o.sname)
	tkt, sessKey, err := messages.NewTicket(cname, realm, sname, realm, types.NewKrbFlags(), k.kt,
		etypeID.AES256_CTS_HMAC_SHA1_96, o.kvno, o.start, o.start, o.end, o.end)
	if err != nil {
		t.Fatal(err)
	}
	a, err := types.NewAuthenticator(realm, cname)
	if err != nil {
		t.Fatal(err)
	}
	if !o.ctime.IsZero() {
		a.CTime, a.Cusec = o.ctime, 0
	}
	if !o.noSubkey {
		et, _ := crypto.GetEtype(etypeID.AES256_CTS_HMAC_SHA1_96)
		if a.SubKey, err = types.GenerateEncryptionKey(et); err != nil {
			t.Fatal(err)
		}
		subkey = a.SubKey
	}
	req, err := messages.NewAPReq(tkt, sessKey, a)
	if err != nil {
		t.Fatal(err)
	}
	if !o.noMutual {
		types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return auth.InitialContextToken(OID, append(append([]byte{}, tokAPReq...), b...)), sessKey, subkey
}

func accept(t *testing.T, m *Mechanism, tok []byte) (auth.Context, []byte, error) {
	t.Helper()
	c, err := m.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, done, err := c.Accept(context.Background(), tok)
	if err == nil && !done {
		t.Fatal("AP-REQ accepted but the exchange is not done")
	}
	return c, out, err
}

// decodeAPRep is the client's side of mutual authentication.
func decodeAPRep(t *testing.T, out []byte, sessKey types.EncryptionKey) messages.EncAPRepPart {
	t.Helper()
	var tok spnego.KRB5Token
	if err := tok.Unmarshal(out); err != nil {
		t.Fatalf("AP-REP token: %v", err)
	}
	if !tok.IsAPRep() {
		t.Fatal("reply is not an AP-REP")
	}
	plain, err := crypto.DecryptEncPart(tok.APRep.EncPart, sessKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		t.Fatalf("AP-REP does not decrypt with the ticket session key: %v", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	return part
}

func TestAcceptMutual(t *testing.T) {
	k := newKDC(t)
	m := New(k.serverKeytab())
	tok, sessKey, subkey := k.apReq(t, ticketOpts{})
	c, out, err := accept(t, m, tok)
	if err != nil {
		t.Fatal(err)
	}
	res := c.Result()
	if res.User != "alice" || res.Domain != realm {
		t.Fatalf("identity %q@%q, want alice@%s", res.User, res.Domain, realm)
	}
	part := decodeAPRep(t, out, sessKey)
	if len(part.Subkey.KeyValue) != 32 {
		t.Fatalf("AP-REP asserts no AES-256 acceptor subkey: %+v", part.Subkey)
	}
	if string(res.SessionKey) != string(part.Subkey.KeyValue) {
		t.Fatal("session key is not the acceptor subkey the client learns from the AP-REP")
	}
	if string(res.SessionKey) == string(subkey.KeyValue) || string(res.SessionKey) == string(sessKey.KeyValue) {
		t.Fatal("acceptor subkey repeats a key the client chose")
	}

	// mechListMIC both ways, with the acceptor subkey.
	data := []byte("mech types")
	micer := c.(auth.MICer)
	cmic, err := gssapi.NewInitiatorMICToken(data, part.Subkey)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := cmic.Marshal()
	if err := micer.VerifyMIC(data, cb); err != nil {
		t.Fatalf("client MIC refused: %v", err)
	}
	if err := micer.VerifyMIC([]byte("other types"), cb); err == nil {
		t.Fatal("MIC over different data accepted")
	}
	var smic gssapi.MICToken
	if err := smic.Unmarshal(micer.MIC(data), true); err != nil {
		t.Fatal(err)
	}
	smic.Payload = data
	if ok, err := smic.Verify(part.Subkey, keyusage.GSSAPI_ACCEPTOR_SIGN); !ok {
		t.Fatalf("server MIC does not verify: %v", err)
	}
}

func TestAcceptWithoutMutualOrSubkey(t *testing.T) {
	k := newKDC(t)
	m := New(k.serverKeytab())
	tok, sessKey, _ := k.apReq(t, ticketOpts{noMutual: true, noSubkey: true})
	c, out, err := accept(t, m, tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Fatal("AP-REP sent though the client did not ask for mutual authentication")
	}
	if string(c.Result().SessionKey) != string(sessKey.KeyValue) {
		t.Fatal("session key is not the ticket's session key")
	}
}

func TestKeyRotation(t *testing.T) {
	k := newKDC(t)
	m := New(k.serverKeytab())
	for _, kvno := range []int{1, 2} {
		tok, _, _ := k.apReq(t, ticketOpts{kvno: kvno})
		if _, _, err := accept(t, m, tok); err != nil {
			t.Fatalf("ticket with kvno %d refused: %v", kvno, err)
		}
	}
}

func TestRefused(t *testing.T) {
	k := newKDC(t)
	now := time.Now()
	for _, tc := range []struct {
		name string
		o    ticketOpts
		m    func(*Mechanism)
		want error
	}{
		{"expired", ticketOpts{start: now.Add(-3 * time.Hour), end: now.Add(-time.Hour)}, nil, auth.ErrLogonFailure},
		{"not yet valid", ticketOpts{start: now.Add(time.Hour), end: now.Add(2 * time.Hour)}, nil, auth.ErrLogonFailure},
		{"other service", ticketOpts{sname: "cifs/other.test.realm", kvno: 1}, nil, auth.ErrLogonFailure},
		{"key version not in keytab", ticketOpts{kvno: 2}, func(m *Mechanism) {
			m.Keytab = keytab.New()
			m.Keytab.Entries = append(m.Keytab.Entries, k.serverKeytab().Entries[0]) // kvno 1 only
		}, auth.ErrLogonFailure},
		{"client clock behind", ticketOpts{ctime: now.Add(-10 * time.Minute)}, nil, auth.ErrTimeSkew},
		{"server clock ahead", ticketOpts{}, func(m *Mechanism) {
			m.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
		}, auth.ErrTimeSkew},
		{"mapper refuses", ticketOpts{}, func(m *Mechanism) {
			m.Map = func(context.Context, Principal, *PAC) (auth.Identity, error) {
				return auth.Identity{}, auth.ErrAccessDenied
			}
		}, auth.ErrAccessDenied},
		{"no keytab", ticketOpts{}, func(m *Mechanism) { m.Keytab = nil }, auth.ErrLogonFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(k.serverKeytab())
			if tc.m != nil {
				tc.m(m)
			}
			tok, _, _ := k.apReq(t, tc.o)
			_, _, err := accept(t, m, tok)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReplayRefused(t *testing.T) {
	k := newKDC(t)
	m := New(k.serverKeytab())
	tok, _, _ := k.apReq(t, ticketOpts{})
	if _, _, err := accept(t, m, tok); err != nil {
		t.Fatal(err)
	}
	if _, _, err := accept(t, m, tok); !errors.Is(err, auth.ErrLogonFailure) {
		t.Fatalf("replayed AP-REQ: got %v, want a logon failure", err)
	}
	// A fresh authenticator for the same ticket is fine.
	tok2, _, _ := k.apReq(t, ticketOpts{})
	if _, _, err := accept(t, m, tok2); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedTokens(t *testing.T) {
	m := New(newKDC(t).serverKeytab())
	for _, tok := range [][]byte{nil, {0x60}, {0x60, 0x03, 0x06, 0x01, 0x00}, []byte("NTLMSSP\x00"), {0x6e, 0x80}} {
		if _, _, err := accept(t, m, tok); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("token %x: got %v, want ErrInvalidToken", tok, err)
		}
	}
}

func FuzzAccept(f *testing.F) {
	k := newKDC(&testing.T{})
	m := New(k.serverKeytab())
	tok, _, _ := k.apReq(&testing.T{}, ticketOpts{})
	f.Add(tok)
	f.Add([]byte{0x60, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, _ := m.Start(context.Background())
		_, _, _ = c.Accept(context.Background(), b)
	})
}

// TestSPNEGO offers Kerberos and NTLM and has a client pick Kerberos with
// its optimistic token and a mechListMIC.
func TestSPNEGO(t *testing.T) {
	k := newKDC(t)
	neg := auth.Negotiate(New(k.serverKeytab()))
	tok, sessKey, _ := k.apReq(t, ticketOpts{})
	init := spnego.NegTokenInit{
		MechTypes:      []asn1.ObjectIdentifier{asn1.ObjectIdentifier(OIDMS), asn1.ObjectIdentifier(OID)},
		MechTokenBytes: tok,
	}
	st := spnego.SPNEGOToken{Init: true, NegTokenInit: init}
	in, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := neg.Start(context.Background())
	out, done, err := c.Accept(context.Background(), in)
	if err != nil || !done {
		t.Fatalf("SPNEGO with Kerberos: done=%v err=%v", done, err)
	}
	var resp spnego.SPNEGOToken
	if err := resp.Unmarshal(out); err != nil {
		t.Fatal(err)
	}
	if !resp.NegTokenResp.SupportedMech.Equal(asn1.ObjectIdentifier(OIDMS)) {
		t.Fatalf("supportedMech %v, want the client's first choice %v", resp.NegTokenResp.SupportedMech, OIDMS)
	}
	decodeAPRep(t, resp.NegTokenResp.ResponseToken, sessKey)
	if c.Result().User != "alice" {
		t.Fatalf("user %q", c.Result().User)
	}
}
