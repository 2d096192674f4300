// Package krb is cifsd's Kerberos 5 acceptor (RFC 4120, RFC 4121 GSS-API
// framing, MS-KILE): it verifies a client's AP-REQ against the service keys
// in a keytab, answers with an AP-REP for mutual authentication, and yields
// the session key SMB derives its signing and encryption keys from. It
// implements auth.Mechanism, so it is offered through SPNEGO next to NTLM:
//
//	kt, _ := krb.LoadKeytab("/etc/cifsd.keytab")
//	srv.Auth = auth.Negotiate(krb.New(kt), ntlm.Users(store))
//
// Tickets are decrypted with the keytab key of the ticket's service
// principal, key version and encryption type, so a keytab holding several
// key versions keeps old tickets working while keys rotate. A ticket for a
// principal the keytab has no key for is refused.
package krb

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	stdasn1 "encoding/asn1"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/cifsd/cifsd/auth"
)

// DefaultMaxClockSkew is the clock difference tolerated between client and
// server when MaxClockSkew is zero (RFC 4120 1.6 suggests five minutes).
const DefaultMaxClockSkew = 5 * time.Minute

// Principal is a Kerberos client principal: Name is the name without the
// realm ("alice", "host/pc.example.com").
type Principal struct {
	Name  string
	Realm string
}

func (p Principal) String() string { return p.Name + "@" + p.Realm }

// Mapper turns an authenticated principal into the identity the server
// checks share access against. pac is the verified PAC's information, or
// nil when the ticket carried none. An error (wrapping auth.ErrLogonFailure
// or auth.ErrAccessDenied) refuses the logon.
type Mapper func(ctx context.Context, p Principal, pac *PAC) (auth.Identity, error)

// DefaultMapper maps a principal to the user of the same name without the
// realm, in a domain named after the realm, with the PAC's SIDs.
func DefaultMapper(_ context.Context, p Principal, pac *PAC) (auth.Identity, error) {
	id := auth.Identity{User: p.Name, Domain: p.Realm}
	if pac != nil {
		id.SIDs = pac.SIDs
	}
	return id, nil
}

// Mechanism accepts Kerberos AP-REQs for the keys in Keytab. The zero value
// refuses every ticket; New returns one ready to use. Fields must not change
// once the server uses the mechanism.
type Mechanism struct {
	// Keytab holds the service keys (cifs/HOST@REALM and any others the
	// server answers to).
	Keytab *keytab.Keytab
	// MaxClockSkew is the clock difference tolerated between client and
	// server; zero means DefaultMaxClockSkew.
	MaxClockSkew time.Duration
	// Map turns principals into identities; nil means DefaultMapper.
	Map Mapper
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the reason a ticket was refused; nil discards.
	Logger *slog.Logger

	replay replayCache
}

// New returns a Mechanism for the keys in kt.
func New(kt *keytab.Keytab) *Mechanism { return &Mechanism{Keytab: kt} }

// LoadKeytab reads a keytab file (MIT format, as ktutil and kadmin write).
func LoadKeytab(path string) (*keytab.Keytab, error) {
	kt, err := keytab.Load(path)
	if err != nil {
		return nil, fmt.Errorf("krb: keytab %s: %w", path, err)
	}
	return kt, nil
}

// Object identifiers Kerberos answers to in SPNEGO: RFC 4121's and the one
// Microsoft's clients list first (MS-KILE 3.1.5.11).
var (
	OID   = stdasn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}
	OIDMS = stdasn1.ObjectIdentifier{1, 2, 840, 48018, 1, 2, 2}
)

// OIDs returns the Microsoft and the standard Kerberos OIDs.
func (m *Mechanism) OIDs() []stdasn1.ObjectIdentifier {
	return []stdasn1.ObjectIdentifier{OIDMS, OID}
}

// Start begins a Kerberos exchange: one AP-REQ, one AP-REP.
func (m *Mechanism) Start(ctx context.Context) (auth.Context, error) {
	return &serverContext{m: m}, nil
}

func (m *Mechanism) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Mechanism) skew() time.Duration {
	if m.MaxClockSkew > 0 {
		return m.MaxClockSkew
	}
	return DefaultMaxClockSkew
}

func (m *Mechanism) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// GSS-API token identifiers of RFC 4121 4.1.
var (
	tokAPReq = []byte{0x01, 0x00}
	tokAPRep = []byte{0x02, 0x00}
)

// serverContext is one AP-REQ/AP-REP exchange.
type serverContext struct {
	m      *Mechanism
	done   bool
	result *auth.Result
	// key signs and verifies mechListMIC tokens: the acceptor subkey when
	// the AP-REP asserted one, otherwise the initiator's subkey or the
	// ticket session key. initiatorKey is the latter.
	key, initiatorKey types.EncryptionKey
	acceptorSubkey    bool
	seq               uint64
}

// Accept verifies the client's AP-REQ and returns the AP-REP.
func (c *serverContext) Accept(ctx context.Context, in []byte) (out []byte, done bool, err error) {
	if c.done {
		return nil, false, fmt.Errorf("%w: Kerberos exchange already complete", auth.ErrInvalidToken)
	}
	defer func() {
		// gokrb5's decoders are not written for hostile input: a panic in
		// them is a bad token, not a crash.
		if r := recover(); r != nil {
			out, done, err = nil, false, fmt.Errorf("%w: malformed Kerberos token", auth.ErrInvalidToken)
		}
	}()
	apReq, err := decodeAPReq(in)
	if err != nil {
		return nil, false, err
	}
	out, err = c.verify(ctx, apReq)
	if err != nil {
		c.m.logger().Info("kerberos logon refused", "err", err)
		return nil, false, err
	}
	c.done = true
	return out, true, nil
}

// Result is the identity and session key the AP-REQ established.
func (c *serverContext) Result() *auth.Result { return c.result }

// decodeAPReq takes the AP-REQ out of its GSS-API initial context token
// (RFC 2743 3.1, RFC 4121 4.1); a bare AP-REQ is accepted too.
func decodeAPReq(in []byte) (*messages.APReq, error) {
	body := in
	if len(in) > 0 && in[0] == 0x60 {
		var oid asn1.ObjectIdentifier
		rest, err := asn1.UnmarshalWithParams(in, &oid, "application,explicit,tag:0")
		if err != nil {
			return nil, fmt.Errorf("%w: GSS-API token: %v", auth.ErrInvalidToken, err)
		}
		if !stdasn1.ObjectIdentifier(oid).Equal(OID) && !stdasn1.ObjectIdentifier(oid).Equal(OIDMS) {
			return nil, fmt.Errorf("%w: GSS-API token for mechanism %v", auth.ErrInvalidToken, oid)
		}
		if len(rest) < 2 || rest[0] != tokAPReq[0] || rest[1] != tokAPReq[1] {
			return nil, fmt.Errorf("%w: Kerberos token is not an AP-REQ", auth.ErrInvalidToken)
		}
		body = rest[2:]
	}
	var req messages.APReq
	if err := req.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: AP-REQ: %v", auth.ErrInvalidToken, err)
	}
	return &req, nil
}

// verify checks the ticket and authenticator as RFC 4120 3.2.3 says and
// builds the reply.
func (c *serverContext) verify(ctx context.Context, req *messages.APReq) ([]byte, error) {
	m := c.m
	if m.Keytab == nil {
		return nil, fmt.Errorf("%w: no keytab", auth.ErrLogonFailure)
	}
	if types.IsFlagSet(&req.APOptions, flags.APOptionUseSessionKey) {
		return nil, fmt.Errorf("%w: user-to-user tickets are not supported", auth.ErrLogonFailure)
	}
	tkt := &req.Ticket
	sname := tkt.SName.PrincipalNameString() + "@" + tkt.Realm
	key, _, err := m.Keytab.GetEncryptionKey(tkt.SName, tkt.Realm, tkt.EncPart.KVNO, tkt.EncPart.EType)
	if err != nil {
		return nil, fmt.Errorf("%w: no key for %s (kvno %d, etype %d)", auth.ErrLogonFailure, sname, tkt.EncPart.KVNO, tkt.EncPart.EType)
	}
	if err := tkt.Decrypt(key); err != nil {
		return nil, fmt.Errorf("%w: ticket for %s does not decrypt with the keytab's key", auth.ErrLogonFailure, sname)
	}
	enc := &tkt.DecryptedEncPart
	now, skew := m.now(), m.skew()
	start := enc.StartTime
	if start.IsZero() {
		start = enc.AuthTime
	}
	if start.Sub(now) > skew || types.IsFlagSet(&enc.Flags, flags.Invalid) {
		return nil, fmt.Errorf("%w: ticket not yet valid", auth.ErrLogonFailure)
	}
	if now.Sub(enc.EndTime) > skew {
		return nil, fmt.Errorf("%w: ticket expired at %v", auth.ErrLogonFailure, enc.EndTime)
	}
	if err := req.DecryptAuthenticator(enc.Key); err != nil {
		return nil, fmt.Errorf("%w: authenticator does not decrypt with the ticket's session key", auth.ErrLogonFailure)
	}
	a := &req.Authenticator
	if !a.CName.Equal(enc.CName) || !strings.EqualFold(a.CRealm, enc.CRealm) {
		return nil, fmt.Errorf("%w: authenticator and ticket name different clients", auth.ErrLogonFailure)
	}
	ctime := a.CTime.Add(time.Duration(a.Cusec) * time.Microsecond)
	if d := now.Sub(ctime); d > skew || -d > skew {
		return nil, fmt.Errorf("%w: client clock differs by %v", auth.ErrTimeSkew, d.Round(time.Second))
	}
	client := Principal{Name: enc.CName.PrincipalNameString(), Realm: enc.CRealm}
	if m.replay.seen(replayKey{sname, client.String(), ctime.UnixMicro()}, now, 2*skew) {
		return nil, fmt.Errorf("%w: replayed authenticator from %s", auth.ErrLogonFailure, client)
	}
	pac, err := ticketPAC(enc, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", auth.ErrLogonFailure, err)
	}
	mapper := m.Map
	if mapper == nil {
		mapper = DefaultMapper
	}
	id, err := mapper(ctx, client, pac)
	if err != nil {
		return nil, err
	}

	c.initiatorKey = enc.Key
	if len(a.SubKey.KeyValue) > 0 {
		c.initiatorKey = a.SubKey
	}
	c.key = c.initiatorKey
	var out []byte
	if types.IsFlagSet(&req.APOptions, flags.APOptionMutualRequired) {
		if out, err = c.apRep(req, enc.Key); err != nil {
			return nil, err
		}
	}
	c.result = &auth.Result{Identity: id, SessionKey: append([]byte(nil), c.key.KeyValue...), Expires: enc.EndTime}
	return out, nil
}

// apRep builds the AP-REP (RFC 4120 5.5.2), encrypted in the ticket's
// session key. It asserts a fresh acceptor subkey, which becomes the
// session key, as Windows does (MS-KILE 3.4.5.2).
func (c *serverContext) apRep(req *messages.APReq, ticketKey types.EncryptionKey) ([]byte, error) {
	et, err := crypto.GetEtype(c.initiatorKey.KeyType)
	if err != nil {
		return nil, fmt.Errorf("%w: session key type %d", auth.ErrLogonFailure, c.initiatorKey.KeyType)
	}
	sub, err := types.GenerateEncryptionKey(et)
	if err != nil {
		return nil, fmt.Errorf("krb: acceptor subkey: %w", err)
	}
	var seq [4]byte
	if _, err := rand.Read(seq[:]); err != nil {
		return nil, fmt.Errorf("krb: sequence number: %w", err)
	}
	c.seq = uint64(binary.BigEndian.Uint32(seq[:]) & 0x3fffffff)
	part := messages.EncAPRepPart{
		CTime:          req.Authenticator.CTime,
		Cusec:          req.Authenticator.Cusec,
		Subkey:         sub,
		SequenceNumber: int64(c.seq),
	}
	plain, err := asn1.Marshal(part)
	if err != nil {
		return nil, fmt.Errorf("krb: EncAPRepPart: %w", err)
	}
	plain = asn1tools.AddASNAppTag(plain, asnAppTag.EncAPRepPart)
	ed, err := crypto.GetEncryptedData(plain, ticketKey, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, fmt.Errorf("krb: encrypting AP-REP: %w", err)
	}
	rep := messages.APRep{PVNO: 5, MsgType: 15, EncPart: ed}
	repBytes, err := asn1.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("krb: AP-REP: %w", err)
	}
	repBytes = asn1tools.AddASNAppTag(repBytes, asnAppTag.APREP)
	c.key, c.acceptorSubkey = sub, true
	return auth.InitialContextToken(OID, append(append([]byte{}, tokAPRep...), repBytes...)), nil
}

// cfxMIC reports whether RFC 4121 per-message tokens apply to the key's
// encryption type; DES and RC4 keys use older token formats, which cifsd
// does not produce.
func cfxMIC(k types.EncryptionKey) bool {
	switch k.KeyType {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96,
		etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192:
		return true
	}
	return false
}

// MIC signs data with an RFC 4121 MIC token (4.2.6.1), for SPNEGO's
// mechListMIC. It returns nil for keys without RFC 4121 tokens.
func (c *serverContext) MIC(data []byte) []byte {
	if !c.done || !cfxMIC(c.key) {
		return nil
	}
	fl := byte(gssapi.MICTokenFlagSentByAcceptor)
	if c.acceptorSubkey {
		fl |= gssapi.MICTokenFlagAcceptorSubkey
	}
	tok := gssapi.MICToken{Flags: fl, SndSeqNum: c.seq, Payload: data}
	if err := tok.SetChecksum(c.key, keyusage.GSSAPI_ACCEPTOR_SIGN); err != nil {
		return nil
	}
	b, err := tok.Marshal()
	if err != nil {
		return nil
	}
	return b
}

// VerifyMIC checks the client's mechListMIC. Clients sign with the
// acceptor's subkey once the AP-REP asserted one (RFC 4121 2), though some
// do not set the flag saying so; either key is accepted.
func (c *serverContext) VerifyMIC(data, mic []byte) error {
	if !c.done {
		return fmt.Errorf("%w: mechListMIC before the context is established", auth.ErrInvalidToken)
	}
	if !cfxMIC(c.key) {
		return nil
	}
	var tok gssapi.MICToken
	if err := tok.Unmarshal(mic, false); err != nil {
		return fmt.Errorf("%w: mechListMIC: %v", auth.ErrLogonFailure, err)
	}
	tok.Payload = data
	for _, k := range []types.EncryptionKey{c.key, c.initiatorKey} {
		if ok, _ := tok.Verify(k, keyusage.GSSAPI_INITIATOR_SIGN); ok {
			return nil
		}
	}
	return fmt.Errorf("%w: mechListMIC does not verify", auth.ErrLogonFailure)
}

// replayCache remembers authenticators recently accepted (RFC 4120
// 3.2.3): one presented again within the skew window is a replay. Entries
// expire after twice the skew, after which the authenticator's time alone
// refuses it.
type replayCache struct {
	mu      sync.Mutex
	entries map[replayKey]time.Time
	pruned  time.Time
}

type replayKey struct {
	server, client string
	ctime          int64
}

// maxReplayEntries bounds the cache's memory; past it, expired entries are
// pruned at once rather than once a second.
const maxReplayEntries = 1 << 16

// seen records k and reports whether it was already there.
func (r *replayCache) seen(k replayKey, now time.Time, ttl time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries == nil {
		r.entries = make(map[replayKey]time.Time)
	}
	if len(r.entries) >= maxReplayEntries || now.Sub(r.pruned) > time.Second {
		for key, exp := range r.entries {
			if now.After(exp) {
				delete(r.entries, key)
			}
		}
		r.pruned = now
	}
	if exp, ok := r.entries[k]; ok && !now.After(exp) {
		return true
	}
	if len(r.entries) >= maxReplayEntries {
		// Refusing is safer than forgetting: a flood of fresh
		// authenticators must not flush the ones a replay would reuse.
		return true
	}
	r.entries[k] = now.Add(ttl)
	return false
}
