// Package ntlm is an NTLMSSP server (MS-NLMP): it checks NTLMv2 responses
// against a store of NT hashes and establishes the session key SMB derives
// its signing and encryption keys from. It implements auth.Mechanism.
package ntlm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/md4" //lint:ignore SA1019 NTLM is defined over MD4 (MS-NLMP 3.3.1)

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/internal/utf16le"
)

// OID is NTLMSSP's object identifier in SPNEGO (MS-NLMP 1.9).
var OID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}

// Signature starts every NTLMSSP message.
var Signature = []byte("NTLMSSP\x00")

// ErrNoSuchUser is what a UserStore returns (wrapped) for an unknown user.
var ErrNoSuchUser = errors.New("ntlm: no such user")

// UserStore looks up users' NT hashes (MD4 of the UTF-16LE password).
type UserStore interface {
	LookupNTHash(ctx context.Context, domain, user string) ([]byte, error)
}

// NTHash returns the NT hash of password (MS-NLMP 3.3.1 NTOWFv1).
func NTHash(password string) []byte {
	h := md4.New()
	h.Write(utf16le.Encode(password))
	return h.Sum(nil)
}

// Passwords is a UserStore from user names to passwords. Names compare
// case-insensitively; the domain is ignored.
func Passwords(users map[string]string) UserStore {
	m := make(mapStore, len(users))
	for u, p := range users {
		m[strings.ToUpper(u)] = NTHash(p)
	}
	return m
}

// NTHashes is a UserStore from user names to NT hashes.
func NTHashes(users map[string][]byte) UserStore {
	m := make(mapStore, len(users))
	for u, h := range users {
		m[strings.ToUpper(u)] = bytes.Clone(h)
	}
	return m
}

type mapStore map[string][]byte

func (m mapStore) LookupNTHash(ctx context.Context, domain, user string) ([]byte, error) {
	h, ok := m[strings.ToUpper(user)]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchUser, user)
	}
	return h, nil
}

// Mechanism is the NTLMSSP server mechanism. Set its fields before use.
type Mechanism struct {
	// Store holds the users.
	Store UserStore
	// ServerName is the NetBIOS computer name (default "CIFSD").
	ServerName string
	// DomainName is the NetBIOS domain name (default "WORKGROUP").
	DomainName string
	// DNSComputerName and DNSDomainName are reported in the target info
	// when set.
	DNSComputerName, DNSDomainName string
	// AllowGuest admits an unknown user as the guest account, as Samba's
	// "map to guest = bad user" does. A wrong password of a known user is
	// still refused.
	AllowGuest bool
	// AllowAnonymous admits null sessions (no user, no response).
	AllowAnonymous bool
	// AllowNTLMv1 admits NTLMv1 responses (with or without extended
	// session security), for old devices that speak nothing newer. Off by
	// default: a captured NTLMv1 exchange can be cracked offline. Every
	// NTLMv1 logon is logged as insecure.
	AllowNTLMv1 bool
	// Logger receives the mechanism's warnings; nil uses slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (m *Mechanism) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

// Users returns an NTLM mechanism that authenticates the users of store.
func Users(store UserStore) *Mechanism { return &Mechanism{Store: store} }

// OIDs returns NTLMSSP's OID.
func (m *Mechanism) OIDs() []asn1.ObjectIdentifier { return []asn1.ObjectIdentifier{OID} }

// Start begins an NTLMSSP exchange.
func (m *Mechanism) Start(ctx context.Context) (auth.Context, error) {
	return &serverContext{m: m}, nil
}

// Negotiate flags (MS-NLMP 2.2.2.5).
const (
	flagUnicode          = 0x00000001
	flagRequestTarget    = 0x00000004
	flagSign             = 0x00000010
	flagSeal             = 0x00000020
	flagNTLM             = 0x00000200
	flagAnonymous        = 0x00000800
	flagAlwaysSign       = 0x00008000
	flagTargetTypeServer = 0x00020000
	flagESS              = 0x00080000
	flagTargetInfo       = 0x00800000
	flagVersion          = 0x02000000
	flag128              = 0x20000000
	flagKeyExch          = 0x40000000
	flag56               = 0x80000000
)

// AV pair ids (MS-NLMP 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avFlags           = 6
	avTimestamp       = 7
)

type serverContext struct {
	m          *Mechanism
	mu         sync.Mutex
	state      int // 0: want NEGOTIATE, 1: want AUTHENTICATE, 2: done
	negotiate  []byte
	challenge  []byte
	serverChal [8]byte
	flags      uint32
	result     *auth.Result
	exported   []byte
}

func (c *serverContext) Result() *auth.Result { return c.result }

// Accept consumes NEGOTIATE, then AUTHENTICATE.
func (c *serverContext) Accept(ctx context.Context, in []byte) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(in) < 12 || !bytes.Equal(in[:8], Signature) {
		return nil, false, fmt.Errorf("%w: not an NTLMSSP message", auth.ErrInvalidToken)
	}
	typ := binary.LittleEndian.Uint32(in[8:])
	switch {
	case c.state == 0 && typ == 1:
		return c.challengeFor(in)
	case c.state == 1 && typ == 3:
		err := c.authenticate(ctx, in)
		if err != nil {
			return nil, false, err
		}
		c.state = 2
		return nil, true, nil
	}
	return nil, false, fmt.Errorf("%w: unexpected NTLMSSP message type %d", auth.ErrInvalidToken, typ)
}

func (c *serverContext) now() time.Time {
	if c.m.Now != nil {
		return c.m.Now()
	}
	return time.Now()
}

func (c *serverContext) challengeFor(neg []byte) ([]byte, bool, error) {
	if len(neg) < 16 {
		return nil, false, fmt.Errorf("%w: short NEGOTIATE", auth.ErrInvalidToken)
	}
	c.negotiate = bytes.Clone(neg)
	cf := binary.LittleEndian.Uint32(neg[12:])
	c.flags = flagUnicode | flagNTLM | flagRequestTarget | flagTargetTypeServer | flagTargetInfo |
		cf&(flagSign|flagSeal|flagAlwaysSign|flagESS|flag128|flag56|flagKeyExch|flagVersion)
	if cf&flagUnicode == 0 {
		return nil, false, fmt.Errorf("%w: client does not offer Unicode", auth.ErrAccessDenied)
	}
	rand.Read(c.serverChal[:])
	server, domain := c.m.ServerName, c.m.DomainName
	if server == "" {
		server = "CIFSD"
	}
	if domain == "" {
		domain = "WORKGROUP"
	}
	var ti bytes.Buffer
	putAV := func(id uint16, v []byte) {
		var h [4]byte
		binary.LittleEndian.PutUint16(h[:], id)
		binary.LittleEndian.PutUint16(h[2:], uint16(len(v)))
		ti.Write(h[:])
		ti.Write(v)
	}
	putAV(avNbDomainName, utf16le.Encode(domain))
	putAV(avNbComputerName, utf16le.Encode(server))
	dnsComputer, dnsDomain := c.m.DNSComputerName, c.m.DNSDomainName
	if dnsComputer == "" {
		dnsComputer = strings.ToLower(server)
	}
	putAV(avDNSDomainName, utf16le.Encode(dnsDomain))
	putAV(avDNSComputerName, utf16le.Encode(dnsComputer))
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], filetime(c.now()))
	putAV(avTimestamp, ts[:])
	putAV(avEOL, nil)

	target := utf16le.Encode(server)
	const hdr = 56
	msg := make([]byte, hdr+len(target)+ti.Len())
	copy(msg, Signature)
	binary.LittleEndian.PutUint32(msg[8:], 2)
	putField(msg[12:], len(target), hdr)
	binary.LittleEndian.PutUint32(msg[20:], c.flags)
	copy(msg[24:32], c.serverChal[:])
	putField(msg[40:], ti.Len(), hdr+len(target))
	// VERSION (MS-NLMP 2.2.2.10): 10.0 build 20348, NTLMSSP revision 15.
	copy(msg[48:56], []byte{10, 0, 0x7C, 0x4F, 0, 0, 0, 15})
	copy(msg[hdr:], target)
	copy(msg[hdr+len(target):], ti.Bytes())
	c.challenge = msg
	c.state = 1
	return msg, false, nil
}

func putField(b []byte, n, off int) {
	binary.LittleEndian.PutUint16(b, uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(off))
}

// field returns the payload a security buffer field names, bounds-checked.
func field(msg []byte, at int) ([]byte, error) {
	if at+8 > len(msg) {
		return nil, fmt.Errorf("%w: short AUTHENTICATE", auth.ErrInvalidToken)
	}
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if n == 0 {
		return nil, nil
	}
	if off < 0 || off > len(msg) || n > len(msg)-off {
		return nil, fmt.Errorf("%w: AUTHENTICATE field outside the message", auth.ErrInvalidToken)
	}
	return msg[off : off+n], nil
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	h := hmac.New(md5.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func (c *serverContext) authenticate(ctx context.Context, msg []byte) error {
	if len(msg) < 64 {
		return fmt.Errorf("%w: short AUTHENTICATE", auth.ErrInvalidToken)
	}
	lmResp, err1 := field(msg, 12)
	ntResp, err2 := field(msg, 20)
	domainB, err3 := field(msg, 28)
	userB, err4 := field(msg, 36)
	encKey, err5 := field(msg, 52)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	flags := binary.LittleEndian.Uint32(msg[60:])
	user, domain := utf16le.Decode(userB), utf16le.Decode(domainB)

	if user == "" && len(ntResp) == 0 && (len(lmResp) <= 1) {
		if !c.m.AllowAnonymous {
			return fmt.Errorf("%w: anonymous logon not allowed", auth.ErrLogonFailure)
		}
		c.result = &auth.Result{Identity: auth.Identity{Anonymous: true}}
		return nil
	}
	if len(ntResp) == 24 {
		if !c.m.AllowNTLMv1 {
			return fmt.Errorf("%w: NTLMv1 response refused", auth.ErrLogonFailure)
		}
		return c.authenticateV1(ctx, user, domain, lmResp, ntResp, encKey, flags) // ntlmv1.go
	}
	if len(ntResp) < 16+28 {
		return fmt.Errorf("%w: NTLMv2 response too short", auth.ErrLogonFailure)
	}
	hash, err := c.m.Store.LookupNTHash(ctx, domain, user)
	if err != nil {
		if errors.Is(err, ErrNoSuchUser) && c.m.AllowGuest {
			c.result = &auth.Result{Identity: auth.Identity{User: user, Domain: domain, Guest: true}}
			return nil
		}
		return fmt.Errorf("%w: %w", auth.ErrLogonFailure, err)
	}
	proof, blob := ntResp[:16], ntResp[16:]
	if !avPairsWellFormed(blob) {
		// An AV pair list that overruns the response or lacks MsvAvEOL is
		// a malformed message, not a wrong password (as Samba answers
		// since its bug 14932).
		return fmt.Errorf("%w: NTLMv2 AV pairs malformed", auth.ErrInvalidToken)
	}
	var baseKey []byte
	// MS-NLMP 3.3.2: the response is keyed with the user and the domain as
	// the client sent them; clients disagree on the domain, so try both it
	// and an empty one, as Windows and Samba do.
	for _, d := range []string{domain, ""} {
		owf := hmacMD5(hash, utf16le.Encode(strings.ToUpper(user)+d))
		want := hmacMD5(owf, c.serverChal[:], blob)
		if subtle.ConstantTimeCompare(want, proof) == 1 {
			baseKey = hmacMD5(owf, proof)
			break
		}
	}
	if baseKey == nil {
		return fmt.Errorf("%w: wrong password for %q", auth.ErrLogonFailure, user)
	}
	exported := baseKey
	if flags&flagKeyExch != 0 && c.flags&flagKeyExch != 0 && len(encKey) == 16 {
		exported = make([]byte, 16)
		r, _ := rc4.NewCipher(baseKey)
		r.XORKeyStream(exported, encKey)
	}
	// The MIC (MS-NLMP 3.2.5.1.2) is present when the blob's AV pairs
	// carry MsvAvFlags with bit 0x2.
	if avFlagsOf(blob)&0x2 != 0 {
		if len(msg) < 88 {
			return fmt.Errorf("%w: MIC missing", auth.ErrLogonFailure)
		}
		mic := bytes.Clone(msg[72:88])
		zeroed := bytes.Clone(msg)
		clear(zeroed[72:88])
		want := hmacMD5(exported, c.negotiate, c.challenge, zeroed)
		if subtle.ConstantTimeCompare(want, mic) != 1 {
			return fmt.Errorf("%w: bad MIC", auth.ErrLogonFailure)
		}
	}
	c.flags &= flags | flagTargetInfo | flagTargetTypeServer | flagRequestTarget
	c.exported = exported
	c.result = &auth.Result{Identity: auth.Identity{User: user, Domain: domain}, SessionKey: exported}
	return nil
}

// avPairsWellFormed reports whether the AV pairs of an NTLMv2 blob
// (MS-NLMP 2.2.2.7, 2.2.2.1) fit in it and end with MsvAvEOL.
func avPairsWellFormed(blob []byte) bool {
	if len(blob) < 28 {
		return false
	}
	p := blob[28:]
	for len(p) >= 4 {
		id := binary.LittleEndian.Uint16(p)
		n := int(binary.LittleEndian.Uint16(p[2:]))
		if 4+n > len(p) {
			return false
		}
		if id == avEOL {
			return true
		}
		p = p[4+n:]
	}
	return false
}

// avFlagsOf returns MsvAvFlags from an NTLMv2 blob, or 0.
func avFlagsOf(blob []byte) uint32 {
	if len(blob) < 28 {
		return 0
	}
	p := blob[28:]
	for len(p) >= 4 {
		id := binary.LittleEndian.Uint16(p)
		n := int(binary.LittleEndian.Uint16(p[2:]))
		if id == avEOL || 4+n > len(p) {
			return 0
		}
		if id == avFlags && n == 4 {
			return binary.LittleEndian.Uint32(p[4:])
		}
		p = p[4+n:]
	}
	return 0
}

func filetime(t time.Time) uint64 { return uint64(t.UnixNano()/100 + 116444736000000000) }

// Signing for SPNEGO's mechListMIC (MS-NLMP 3.4.4.2, extended session
// security).
func signKey(exported []byte, serverToClient bool) []byte {
	dir := "client-to-server"
	if serverToClient {
		dir = "server-to-client"
	}
	h := md5.New()
	h.Write(exported)
	h.Write([]byte("session key to " + dir + " signing key magic constant\x00"))
	return h.Sum(nil)
}

func sealKey(exported []byte, serverToClient bool) []byte {
	dir := "client-to-server"
	if serverToClient {
		dir = "server-to-client"
	}
	h := md5.New()
	h.Write(exported)
	h.Write([]byte("session key to " + dir + " sealing key magic constant\x00"))
	return h.Sum(nil)
}

// mac computes the NTLMSSP_MESSAGE_SIGNATURE of data with sequence number 0.
func (c *serverContext) mac(data []byte, serverToClient bool) []byte {
	var seq [4]byte
	sum := hmacMD5(signKey(c.exported, serverToClient), seq[:], data)[:8]
	if c.flags&flagKeyExch != 0 {
		r, _ := rc4.NewCipher(sealKey(c.exported, serverToClient))
		r.XORKeyStream(sum, sum)
	}
	out := make([]byte, 16)
	binary.LittleEndian.PutUint32(out, 1)
	copy(out[4:12], sum)
	return out
}

// MIC signs data for the client (the server's mechListMIC).
func (c *serverContext) MIC(data []byte) []byte { return c.mac(data, true) }

// VerifyMIC checks the client's mechListMIC.
func (c *serverContext) VerifyMIC(data, mic []byte) error {
	if c.exported == nil {
		return fmt.Errorf("%w: no session key for mechListMIC", auth.ErrLogonFailure)
	}
	if subtle.ConstantTimeCompare(c.mac(data, false), mic) != 1 {
		return fmt.Errorf("%w: bad mechListMIC", auth.ErrLogonFailure)
	}
	return nil
}
