package rpc

import (
	"strings"

	"github.com/cifsd/cifsd/winacl"
)

// lsarpc is the local security authority (MS-LSAT, MS-LSAD), enough of it
// for a standalone server: opening a policy, the account and primary
// domains, and translating SIDs and names both ways (what Explorer's
// Security tab, smbcacls and icacls ask).
var lsarpcInterface = &Interface{
	Name:  "lsarpc",
	uuid:  mustUUID("12345778-1234-abcd-ef00-0123456789ab"),
	major: 0,
	ops: map[uint16]opFunc{
		0:  (*call).lsaClose,
		6:  (*call).lsaOpenPolicy,
		7:  (*call).lsaQueryInfoPolicy,
		13: (*call).lsaEnumTrustDom,
		14: func(c *call) ([]byte, uint32) { return c.lsaLookupNames(1, false) },
		15: func(c *call) ([]byte, uint32) { return c.lsaLookupSids(1, false) },
		44: (*call).lsaOpenPolicy,
		45: (*call).lsaGetUserName,
		46: (*call).lsaQueryInfoPolicy,
		57: func(c *call) ([]byte, uint32) { return c.lsaLookupSids(2, true) },
		58: func(c *call) ([]byte, uint32) { return c.lsaLookupNames(2, true) },
		68: func(c *call) ([]byte, uint32) { return c.lsaLookupNames(3, true) },
		// LsarLookupSids3 and LsarLookupNames4 are served only over TCP with
		// Netlogon's secure channel (MS-LSAT 3.1.4.8, 3.1.4.11): on a named
		// pipe they are refused.
		76: func(c *call) ([]byte, uint32) { return nil, faultAccessDenied },
		77: func(c *call) ([]byte, uint32) { return nil, faultAccessDenied },
	},
}

// NTSTATUS values (MS-ERREF 2.3.1).
const (
	statusSuccess          = 0x00000000
	statusMoreEntries      = 0x00000105
	statusSomeNotMapped    = 0x00000107
	statusNoMoreEntries    = 0x8000001A
	statusInvalidHandle    = 0xC0000008
	statusInvalidParameter = 0xC000000D
	statusAccessDenied     = 0xC0000022
	statusInvalidInfoClass = 0xC0000003
	statusNoSuchUser       = 0xC0000064
	statusNoSuchGroup      = 0xC0000066
	statusNoneMapped       = 0xC0000073
	statusInsufficientRes  = 0xC000009A
	statusNoSuchDomain     = 0xC00000DF
	statusNoSuchAlias      = 0xC0000151
)

// Policy access rights (MS-LSAD 2.2.1.1.2).
const (
	policyViewLocalInformation = 0x00000001
	policyViewAuditInformation = 0x00000002
	policyGetPrivateInfo       = 0x00000004
	policyLookupNames          = 0x00000800
	policyNotification         = 0x00001000
	policyAllAccess            = 0x000F0FFF
	readControl                = 0x00020000
	maximumAllowed             = 0x02000000
	genericAll                 = 0x10000000
	genericExecute             = 0x20000000
	genericWrite               = 0x40000000
	genericRead                = 0x80000000
)

// lsaPolicy is an open policy handle: what it was granted.
type lsaPolicy struct{ granted uint32 }

// grant maps desired (generic rights through mapping) and returns what the
// caller gets: all of allowed for MAXIMUM_ALLOWED, else exactly what it
// asked, or false when it asked for more than allowed.
func grant(desired uint32, mapping [4]uint32, allowed uint32) (uint32, bool) {
	m := desired &^ (genericRead | genericWrite | genericExecute | genericAll | maximumAllowed)
	for i, g := range []uint32{genericRead, genericWrite, genericExecute, genericAll} {
		if desired&g != 0 {
			m |= mapping[i]
		}
	}
	if m&^allowed != 0 {
		return 0, false
	}
	if desired&maximumAllowed != 0 {
		return allowed, true
	}
	return m, true
}

// policyMapping is the LSA policy's generic mapping (MS-LSAD 2.2.1.1.2).
var policyMapping = [4]uint32{
	readControl | policyViewAuditInformation | policyGetPrivateInfo,
	readControl | 0x000007F8,
	readControl | policyViewLocalInformation | policyLookupNames,
	policyAllAccess,
}

// newHandle answers an open with a new handle for v.
func (c *call) newHandle(v any) ([]byte, uint32) {
	w := &writer{}
	h, ok := c.p.handles.add(v)
	if !ok {
		w.handle([20]byte{})
		return w.status(statusInsufficientRes), 0
	}
	w.handle(h)
	return w.status(statusSuccess), 0
}

// closeHandle answers LsarClose and SamrCloseHandle: the handle comes back
// zeroed.
func (c *call) closeHandle() ([]byte, uint32) {
	h := c.r.handle()
	if c.r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if !c.p.handles.close(h) {
		return nil, faultContextMismat
	}
	w.handle([20]byte{})
	return w.status(statusSuccess), 0
}

// lsaClose answers LsarClose (MS-LSAD 3.1.4.9.4).
func (c *call) lsaClose() ([]byte, uint32) { return c.closeHandle() }

// lsaOpenPolicy answers LsarOpenPolicy and LsarOpenPolicy2 (MS-LSAD
// 3.1.4.4.1-2). Everyone may look names up; administrators get the rest.
func (c *call) lsaOpenPolicy() ([]byte, uint32) {
	// The object attributes are ignored (MS-LSAD 3.1.4.4.1); DesiredAccess
	// is the last field of the stub.
	b := c.r.b
	if len(b) < 8 {
		return c.bad()
	}
	desired := le.Uint32(b[len(b)-4:])
	allowed := uint32(readControl | policyViewLocalInformation | policyLookupNames | policyNotification)
	if c.caller.Admin {
		allowed = policyAllAccess
	}
	if c.caller.Anonymous {
		allowed = policyLookupNames | policyViewLocalInformation
	}
	g, ok := grant(desired, policyMapping, allowed)
	if !ok {
		w := &writer{}
		w.handle([20]byte{})
		return w.status(statusAccessDenied), 0
	}
	return c.newHandle(&lsaPolicy{granted: g})
}

// policy returns the policy of handle h and checks it grants need.
func (c *call) policy(h [20]byte, need uint32) uint32 {
	pol, ok := handleOf[*lsaPolicy](c, h)
	switch {
	case !ok:
		return statusInvalidHandle
	case pol.granted&need != need:
		return statusAccessDenied
	}
	return statusSuccess
}

// Policy information classes (MS-LSAD 2.2.4.1).
const (
	policyPrimaryDomainInformation      = 3
	policyAccountDomainInformation      = 5
	policyDNSDomainInformation          = 12
	policyDNSDomainInformationInt       = 13
	policyLocalAccountDomainInformation = 14
)

// lsaQueryInfoPolicy answers LsarQueryInformationPolicy and ...Policy2
// (MS-LSAD 3.1.4.4.3-4): the account domain (the server's own, named as
// the server) and the primary domain (the workgroup: no SID, MS-LSAD
// 3.1.1.1).
func (c *call) lsaQueryInfoPolicy() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	level := r.u16()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if st := c.policy(h, policyViewLocalInformation); st != statusSuccess {
		w.u32(0)
		return w.status(st), 0
	}
	d := c.s.directory(c.ctx)
	// LSAPR_POLICY_PRIMARY_DOM_INFO and _ACCOUNT_DOM_INFO: a name, then
	// a SID pointer.
	dom := func(name string, hasSID bool) {
		w.ustrHead(name)
		w.ptr(hasSID)
	}
	switch level {
	case policyPrimaryDomainInformation:
		w.ref()
		w.u16(uint16(level))
		dom(c.s.domain(), false)
		w.ustrBody(c.s.domain())
	case policyAccountDomainInformation, policyLocalAccountDomainInformation:
		w.ref()
		w.u16(uint16(level))
		has := len(d.accountSID.Sub) > 0
		dom(d.accountName, has)
		w.ustrBody(d.accountName)
		if has {
			w.sid(d.accountSID)
		}
	case policyDNSDomainInformation, policyDNSDomainInformationInt:
		// A standalone server has no DNS domain: the workgroup's name,
		// empty DNS names, no GUID and no SID.
		w.ref()
		w.u16(uint16(level))
		w.ustrHead(c.s.domain())
		w.ustrHead("")
		w.ustrHead("")
		w.b = append(w.b, make([]byte, 16)...) // DomainGuid
		w.ptr(false)
		w.ustrBody(c.s.domain())
		w.ustrBody("")
		w.ustrBody("")
	default:
		w.u32(0)
		return w.status(statusInvalidParameter), 0
	}
	return w.status(statusSuccess), 0
}

// lsaGetUserName answers LsarGetUserName (MS-LSAT 3.1.4.4): who the
// caller is.
func (c *call) lsaGetUserName() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	if r.u32() != 0 {
		r.ustring()
	}
	wantDomain := r.u32() != 0
	if wantDomain && r.u32() != 0 {
		r.ustring()
	}
	if r.err != nil {
		return c.bad()
	}
	user, domain := c.caller.User, c.caller.Domain
	switch {
	case c.caller.Anonymous:
		user, domain = "ANONYMOUS LOGON", "NT AUTHORITY"
	default:
		if a, ok := c.s.directory(c.ctx).bySID(c.caller.Token.User); ok {
			user, domain = a.Name, a.Domain
		}
	}
	w := &writer{}
	w.ref()
	w.ustrHead(user)
	w.ustrBody(user)
	if wantDomain {
		w.ref()
		w.ref()
		w.ustrHead(domain)
		w.ustrBody(domain)
	} else {
		w.u32(0)
	}
	return w.status(statusSuccess), 0
}

// refDomains is an LSAPR_REFERENCED_DOMAIN_LIST being built.
type refDomains struct {
	names []string
	sids  []winacl.SID
}

// index returns the index of the domain (name, sid), adding it.
func (rd *refDomains) index(name string, sid winacl.SID) int32 {
	for i, s := range rd.sids {
		if s.Equal(sid) {
			return int32(i)
		}
	}
	rd.names = append(rd.names, name)
	rd.sids = append(rd.sids, sid)
	return int32(len(rd.sids) - 1)
}

// domainIndex returns the referenced domain of an account, or -1.
func (rd *refDomains) domainIndex(d *directory, a Account) int32 {
	if a.Type == SIDTypeDomain {
		return rd.index(a.Name, a.SID)
	}
	dom := domainOf(a.SID)
	name, ok := d.domainName(dom)
	if !ok && a.Type != SIDTypeWellKnownGroup {
		return -1
	}
	return rd.index(name, dom)
}

// write writes the [out] PLSAPR_REFERENCED_DOMAIN_LIST* (MS-LSAT 2.2.12).
func (rd *refDomains) write(w *writer) {
	w.ref()
	n := uint32(len(rd.sids))
	w.u32(n)
	if w.ptr(n > 0) {
		w.u32(32) // MaxEntries
		w.u32(n)
		for i := range rd.sids {
			w.ustrHead(rd.names[i])
			w.ptr(true)
		}
		for i := range rd.sids {
			w.ustrBody(rd.names[i])
			w.sid(rd.sids[i])
		}
	} else {
		w.u32(32)
	}
}

// maxLookup bounds the names or SIDs of one lookup (MS-LSAT 3.1.4.5:
// 20480 names; 3.1.4.10: 20480 SIDs).
const maxLookup = 20480

// lookupHead reads the policy handle and checks it grants
// POLICY_LOOKUP_NAMES.
func (c *call) lookupHead() uint32 {
	h := c.r.handle()
	if c.r.err != nil {
		return statusSuccess // reported by the caller's decode check
	}
	return c.policy(h, policyLookupNames)
}

// skipTranslated reads an [in] translated-names or translated-SIDs
// buffer, which clients send empty.
func (r *reader) skipTranslated() {
	r.u32()
	if r.u32() != 0 {
		r.err = errNDR
	}
}

func mappedStatus(mapped, total int) uint32 {
	switch {
	case mapped == total:
		return statusSuccess
	case mapped == 0:
		return statusNoneMapped
	}
	return statusSomeNotMapped
}

// lsaLookupNames answers LsarLookupNames (14), 2 (58) and 3 (68)
// (MS-LSAT 3.1.4.6-9). variant is the translated SID's form: 1
// LSA_TRANSLATED_SID, 2 _EX, 3 _EX2.
func (c *call) lsaLookupNames(variant int, ext bool) ([]byte, uint32) {
	r := c.r
	st := c.lookupHead()
	count := r.count(maxLookup)
	var names []string
	if max := r.count(maxLookup); r.err == nil && max < count {
		r.err = errNDR
	}
	heads := make([]ustr, 0, min(count, 1024))
	for i := 0; i < count && r.err == nil; i++ {
		heads = append(heads, r.ustrHead())
	}
	for _, h := range heads {
		names = append(names, r.ustrBody(h))
	}
	r.skipTranslated()
	r.u16() // LookupLevel
	r.u32() // MappedCount
	if ext {
		r.u32() // LookupOptions
		r.u32() // ClientRevision
	}
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if st != statusSuccess {
		w.u32(0) // no referenced domains
		w.u32(0) // no translated SIDs
		w.u32(0)
		w.u32(0) // MappedCount
		return w.status(st), 0
	}
	d := c.s.directory(c.ctx)
	var rd refDomains
	type result struct {
		use    SIDType
		sid    winacl.SID
		domain int32
	}
	res := make([]result, len(names))
	mapped := 0
	for i, n := range names {
		a, ok := d.byName(n)
		if !ok {
			res[i] = result{use: SIDTypeUnknown, domain: -1}
			continue
		}
		mapped++
		res[i] = result{use: a.Type, sid: a.SID, domain: rd.domainIndex(d, a)}
	}
	rd.write(w)
	w.u32(uint32(len(res)))
	if w.ptr(len(res) > 0) {
		w.u32(uint32(len(res)))
		for _, x := range res {
			w.u16(uint16(x.use))
			if variant == 3 {
				w.ptr(x.use != SIDTypeUnknown)
			} else {
				rid := uint32(0)
				switch x.use {
				case SIDTypeUnknown:
				case SIDTypeDomain:
					rid = 0xFFFFFFFF
				default:
					rid = ridOf(x.sid)
				}
				w.u32(rid)
			}
			w.u32(uint32(x.domain))
			if variant >= 2 {
				w.u32(0) // Flags
			}
		}
		if variant == 3 {
			for _, x := range res {
				if x.use != SIDTypeUnknown {
					w.sid(x.sid)
				}
			}
		}
	}
	w.u32(uint32(mapped))
	return w.status(mappedStatus(mapped, len(res))), 0
}

// lsaLookupSids answers LsarLookupSids (15) and 2 (57) (MS-LSAT
// 3.1.4.10-12). variant 1 is LSAPR_TRANSLATED_NAME, 2 _EX.
func (c *call) lsaLookupSids(variant int, ext bool) ([]byte, uint32) {
	r := c.r
	st := c.lookupHead()
	count := r.count(maxLookup)
	var sids []winacl.SID
	if r.u32() != 0 {
		if max := r.count(maxLookup); r.err == nil && max != count {
			r.err = errNDR
		}
		present := make([]bool, 0, min(count, 1024))
		for i := 0; i < count && r.err == nil; i++ {
			present = append(present, r.u32() != 0)
		}
		for _, p := range present {
			if !p {
				r.err = errNDR // a null SID cannot be looked up
				break
			}
			sids = append(sids, r.sid())
		}
	} else if count != 0 {
		r.err = errNDR
	}
	r.skipTranslated()
	r.u16() // LookupLevel
	r.u32() // MappedCount
	if ext {
		r.u32()
		r.u32()
	}
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if st != statusSuccess {
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.u32(0)
		return w.status(st), 0
	}
	d := c.s.directory(c.ctx)
	var rd refDomains
	type result struct {
		use    SIDType
		name   string
		domain int32
	}
	res := make([]result, len(sids))
	mapped := 0
	for i, sid := range sids {
		a, ok := d.bySID(sid)
		if !ok {
			// Not mapped: the SID's string form, in its domain when the
			// domain is known (MS-LSAT 3.1.4.11).
			idx := int32(-1)
			if name, ok := d.domainName(domainOf(sid)); ok {
				idx = rd.index(name, domainOf(sid))
			}
			res[i] = result{use: SIDTypeUnknown, name: sid.String(), domain: idx}
			continue
		}
		mapped++
		res[i] = result{use: a.Type, name: a.Name, domain: rd.domainIndex(d, a)}
	}
	rd.write(w)
	w.u32(uint32(len(res)))
	if w.ptr(len(res) > 0) {
		w.u32(uint32(len(res)))
		for _, x := range res {
			w.u16(uint16(x.use))
			w.ustrHead(x.name)
			w.u32(uint32(x.domain))
			if variant >= 2 {
				w.u32(0) // Flags
			}
		}
		for _, x := range res {
			w.ustrBody(x.name)
		}
	}
	w.u32(uint32(mapped))
	return w.status(mappedStatus(mapped, len(res))), 0
}

// nameEq compares account names as Windows does: case-insensitively.
func nameEq(a, b string) bool { return strings.EqualFold(a, b) }

// lsaEnumTrustDom answers LsarEnumerateTrustedDomains (MS-LSAD 3.1.4.7.8):
// a standalone server trusts no domain.
func (c *call) lsaEnumTrustDom() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	ctx := r.u32()
	r.u32() // PreferedMaximumLength
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	st := c.policy(h, policyViewLocalInformation)
	w.u32(ctx)
	w.u32(0) // Entries
	w.u32(0) // Information
	if st != statusSuccess {
		return w.status(st), 0
	}
	return w.status(statusNoMoreEntries), 0
}
