package rpc

import (
	"strings"
	"time"

	"github.com/cifsd/cifsd/winacl"
)

// samr is the security account manager (MS-SAMR), read-only: the server's
// domains, users, groups and aliases, enough for user and group pickers
// and rpcclient. Nothing here changes an account; the write operations are
// not in the table and fault.
var samrInterface = &Interface{
	Name:  "samr",
	uuid:  mustUUID("12345778-1234-abcd-ef00-0123456789ac"),
	major: 1,
	ops: map[uint16]opFunc{
		0:  (*call).samrConnect,
		1:  (*call).closeHandle,
		5:  (*call).samrLookupDomain,
		6:  (*call).samrEnumDomains,
		7:  (*call).samrOpenDomain,
		8:  (*call).samrQueryDomainInfo,
		11: func(c *call) ([]byte, uint32) { return c.samrEnum(false, SIDTypeGroup) },
		13: func(c *call) ([]byte, uint32) { return c.samrEnum(true, SIDTypeUser) },
		15: func(c *call) ([]byte, uint32) { return c.samrEnum(false, SIDTypeAlias) },
		16: (*call).samrGetAliasMembership,
		17: (*call).samrLookupNames,
		18: (*call).samrLookupRids,
		34: (*call).samrOpenUser,
		36: (*call).samrQueryUserInfo,
		39: (*call).samrGetGroupsForUser,
		44: (*call).samrGetUserPwInfo,
		46: (*call).samrQueryDomainInfo, // SamrQueryInformationDomain2
		47: (*call).samrQueryUserInfo,   // SamrQueryInformationUser2
		57: (*call).samrConnect,         // SamrConnect2
		62: (*call).samrConnect,         // SamrConnect4
		64: (*call).samrConnect5,
	},
}

// Handles of samr: the server, a domain, a user.
type (
	samrServer struct{}
	samrDomain struct {
		sid  winacl.SID
		name string
	}
	samrUser struct {
		dom  *samrDomain
		acct Account
	}
)

// samrConnect answers SamrConnect, 2 and 4 (MS-SAMR 3.1.5.1.2-4), whose
// last field is DesiredAccess. Null and guest sessions get no handle.
func (c *call) samrConnect() ([]byte, uint32) {
	if len(c.r.b) < 8 {
		return c.bad()
	}
	if c.caller.Anonymous || c.caller.Guest {
		w := &writer{}
		w.handle([20]byte{})
		return w.status(statusAccessDenied), 0
	}
	return c.newHandle(&samrServer{})
}

// samrConnect5 answers SamrConnect5 (MS-SAMR 3.1.5.1.1): revision 3, no
// extra features.
func (c *call) samrConnect5() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	r.u32() // DesiredAccess
	r.u32() // InVersion
	r.u32() // union discriminant
	r.u32() // Revision
	r.u32() // SupportedFeatures
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	w.u32(1) // OutVersion
	w.u32(1)
	w.u32(3) // Revision
	w.u32(0) // SupportedFeatures
	if c.caller.Anonymous || c.caller.Guest {
		w.handle([20]byte{})
		return w.status(statusAccessDenied), 0
	}
	h, ok := c.p.handles.add(&samrServer{})
	if !ok {
		w.handle([20]byte{})
		return w.status(statusInsufficientRes), 0
	}
	w.handle(h)
	return w.status(statusSuccess), 0
}

// samrDomains are the server's two domains: its account domain and
// BUILTIN (MS-SAMR 3.1.1.1).
func (c *call) samrDomains(d *directory) []samrDomain {
	out := []samrDomain{}
	if len(d.accountSID.Sub) > 0 {
		out = append(out, samrDomain{sid: d.accountSID, name: d.accountName})
	}
	return append(out, samrDomain{sid: sidBuiltin, name: "Builtin"})
}

// samrLookupDomain answers SamrLookupDomainInSamServer (MS-SAMR 3.1.5.11.1).
func (c *call) samrLookupDomain() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	name := r.ustring()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if _, ok := handleOf[*samrServer](c, h); !ok {
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	for _, d := range c.samrDomains(c.s.directory(c.ctx)) {
		if strings.EqualFold(d.name, name) {
			w.ref()
			w.sid(d.sid)
			return w.status(statusSuccess), 0
		}
	}
	w.u32(0)
	return w.status(statusNoSuchDomain), 0
}

// ridEntry is one SAMPR_RID_ENUMERATION.
type ridEntry struct {
	rid  uint32
	name string
}

// writeRidEnum writes an enumeration's EnumerationContext, Buffer and
// CountReturned from the context on (MS-SAMR 2.2.3.9-10); the whole rest
// is returned at once.
func (w *writer) writeRidEnum(ctx uint32, all []ridEntry) []byte {
	start := min(int(ctx), len(all))
	list := all[start:]
	w.u32(uint32(len(all)))
	w.ref()
	w.u32(uint32(len(list)))
	if w.ptr(len(list) > 0) {
		w.u32(uint32(len(list)))
		for _, e := range list {
			w.u32(e.rid)
			w.ustrHead(e.name)
		}
		for _, e := range list {
			w.ustrBody(e.name)
		}
	}
	w.u32(uint32(len(list)))
	return w.status(statusSuccess)
}

// samrEnumDomains answers SamrEnumerateDomainsInSamServer (MS-SAMR
// 3.1.5.2.1).
func (c *call) samrEnumDomains() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	ctx := r.u32()
	r.u32() // PreferedMaximumLength
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if _, ok := handleOf[*samrServer](c, h); !ok {
		w.u32(ctx)
		w.u32(0)
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	var list []ridEntry
	for _, d := range c.samrDomains(c.s.directory(c.ctx)) {
		list = append(list, ridEntry{0, d.name})
	}
	return w.writeRidEnum(ctx, list), 0
}

// samrOpenDomain answers SamrOpenDomain (MS-SAMR 3.1.5.1.5).
func (c *call) samrOpenDomain() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	r.u32() // DesiredAccess: every handle here is read-only
	sid := r.sid()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if _, ok := handleOf[*samrServer](c, h); !ok {
		w.handle([20]byte{})
		return w.status(statusInvalidHandle), 0
	}
	for _, d := range c.samrDomains(c.s.directory(c.ctx)) {
		if d.sid.Equal(sid) {
			return c.newHandle(&d)
		}
	}
	w.handle([20]byte{})
	return w.status(statusNoSuchDomain), 0
}

// domainHandle returns the domain of a handle.
func (c *call) domainHandle(h [20]byte) (*samrDomain, bool) {
	return handleOf[*samrDomain](c, h)
}

// accountsIn lists the domain's accounts of the given types.
func (c *call) accountsIn(dom *samrDomain, d *directory, types ...SIDType) []Account {
	return d.inDomain(dom.sid, types...)
}

// field is one member of a structure samr returns: a fixed part and, for
// strings and logon hours, a deferred one.
type field struct {
	kind byte // '1' u8, '2' u16, '4' u32, '8' OLD_LARGE_INTEGER, 's' string, 'b' null RPC_SHORT_BLOB, 'd' null SR_SECURITY_DESCRIPTOR, 'h' logon hours
	v    uint64
	s    string
}

// writeFields writes a structure's fixed parts, then its deferred ones.
func (w *writer) writeFields(fs ...field) {
	align := 1 // the structure's: its widest member's
	for _, f := range fs {
		switch f.kind {
		case '1':
		case '2':
			align = max(align, 2)
		default:
			align = 4
		}
	}
	w.align(align)
	for _, f := range fs {
		switch f.kind {
		case '1':
			w.u8(uint8(f.v))
		case '2':
			w.u16(uint16(f.v))
		case '4':
			w.u32(uint32(f.v))
		case '8':
			w.u64(f.v)
		case 's':
			w.ustrHead(f.s)
		case 'b':
			w.u16(0)
			w.u16(0)
			w.u32(0)
		case 'd':
			w.u32(0)
			w.u32(0)
		case 'h':
			w.u16(168) // hours per week
			w.ref()
		}
	}
	for _, f := range fs {
		switch f.kind {
		case 's':
			w.ustrBody(f.s)
		case 'h':
			w.u32(1260)
			w.u32(0)
			w.u32(21)
			for range 21 {
				w.u8(0xFF) // every hour allowed
			}
		}
	}
}

func u8f(v uint8) field    { return field{kind: '1', v: uint64(v)} }
func u16f(v uint16) field  { return field{kind: '2', v: uint64(v)} }
func u32f(v uint32) field  { return field{kind: '4', v: uint64(v)} }
func timef(v uint64) field { return field{kind: '8', v: v} }
func strf(s string) field  { return field{kind: 's', s: s} }
func fieldOf(k byte) field { return field{kind: k} }
func neverf() field        { return timef(0x7FFFFFFFFFFFFFFF) }
func filetimef(t time.Time) field {
	return timef(uint64(t.UnixNano()/100 + 116444736000000000))
}

// samrQueryDomainInfo answers SamrQueryInformationDomain and 2 (MS-SAMR
// 3.1.5.5.1-2).
func (c *call) samrQueryDomainInfo() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	level := r.u16()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	dom, ok := c.domainHandle(h)
	if !ok {
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	d := c.s.directory(c.ctx)
	counts := func(t SIDType) uint32 { return uint32(len(c.accountsIn(dom, d, t))) }
	var fs []field
	switch level {
	case 1: // DOMAIN_PASSWORD_INFORMATION
		fs = []field{u16f(0), u16f(0), u32f(0), timef(0), timef(0)}
	case 2: // SAMPR_DOMAIN_GENERAL_INFORMATION
		fs = []field{neverf(), strf(""), strf(dom.name), strf(""), timef(1),
			u32f(1), u32f(3), u8f(0), u32f(counts(SIDTypeUser)), u32f(counts(SIDTypeGroup)), u32f(counts(SIDTypeAlias))}
	case 3: // DOMAIN_LOGOFF_INFORMATION
		fs = []field{neverf()}
	case 4: // SAMPR_DOMAIN_OEM_INFORMATION
		fs = []field{strf("")}
	case 5: // SAMPR_DOMAIN_NAME_INFORMATION
		fs = []field{strf(dom.name)}
	case 6: // SAMPR_DOMAIN_REPLICATION_INFORMATION
		fs = []field{strf("")}
	case 7: // DOMAIN_SERVER_ROLE_INFORMATION: primary (3.1.5.5.1.2)
		fs = []field{u16f(3)}
	case 8: // DOMAIN_MODIFIED_INFORMATION
		fs = []field{timef(1), filetimef(processStart)}
	case 9: // DOMAIN_STATE_INFORMATION: enabled
		fs = []field{u16f(1)}
	case 12: // SAMPR_DOMAIN_LOCKOUT_INFORMATION: no lockout
		fs = []field{timef(0), timef(0), u16f(0)}
	case 13: // DOMAIN_MODIFIED_INFORMATION2
		fs = []field{timef(1), filetimef(processStart), timef(0)}
	default:
		w.u32(0)
		return w.status(statusInvalidInfoClass), 0
	}
	w.ref()
	w.u16(level)
	w.writeFields(fs...)
	return w.status(statusSuccess), 0
}

// samrEnum answers SamrEnumerateUsersInDomain (with its account-control
// filter), ...GroupsInDomain and ...AliasesInDomain (MS-SAMR 3.1.5.2.2-5).
func (c *call) samrEnum(users bool, t SIDType) ([]byte, uint32) {
	r := c.r
	h := r.handle()
	ctx := r.u32()
	if users {
		r.u32() // UserAccountControl filter: every account here is a normal one
	}
	r.u32()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	dom, ok := c.domainHandle(h)
	if !ok {
		w.u32(ctx)
		w.u32(0)
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	var list []ridEntry
	for _, a := range c.accountsIn(dom, c.s.directory(c.ctx), t) {
		list = append(list, ridEntry{ridOf(a.SID), a.Name})
	}
	return w.writeRidEnum(ctx, list), 0
}

// samrLookupNames answers SamrLookupNamesInDomain (MS-SAMR 3.1.5.11.2).
func (c *call) samrLookupNames() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	count := r.count(1000)
	r.count(1000) // max count
	if r.u32() != 0 {
		r.err = errNDR // offset
	}
	if actual := r.count(1000); r.err == nil && actual != count {
		r.err = errNDR
	}
	heads := make([]ustr, 0, count)
	for i := 0; i < count && r.err == nil; i++ {
		heads = append(heads, r.ustrHead())
	}
	names := make([]string, 0, count)
	for _, hd := range heads {
		names = append(names, r.ustrBody(hd))
	}
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	dom, ok := c.domainHandle(h)
	if !ok {
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	accts := c.accountsIn(dom, c.s.directory(c.ctx), SIDTypeUser, SIDTypeGroup, SIDTypeAlias)
	rids := make([]uint32, len(names))
	uses := make([]uint32, len(names))
	mapped := 0
	for i, n := range names {
		uses[i] = uint32(SIDTypeUnknown)
		for _, a := range accts {
			if nameEq(a.Name, n) {
				rids[i], uses[i] = ridOf(a.SID), uint32(a.Type)
				mapped++
				break
			}
		}
	}
	w.writeULongs(rids)
	w.writeULongs(uses)
	return w.status(mappedStatus(mapped, len(names))), 0
}

// writeULongs writes a SAMPR_ULONG_ARRAY (MS-SAMR 2.2.7.4).
func (w *writer) writeULongs(v []uint32) {
	w.u32(uint32(len(v)))
	if w.ptr(len(v) > 0) {
		w.u32(uint32(len(v)))
		for _, x := range v {
			w.u32(x)
		}
	}
}

// samrLookupRids answers SamrLookupIdsInDomain (MS-SAMR 3.1.5.11.3).
func (c *call) samrLookupRids() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	count := r.count(1000)
	r.count(1000)
	if r.u32() != 0 {
		r.err = errNDR
	}
	if actual := r.count(1000); r.err == nil && actual != count {
		r.err = errNDR
	}
	rids := make([]uint32, 0, count)
	for i := 0; i < count && r.err == nil; i++ {
		rids = append(rids, r.u32())
	}
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	dom, ok := c.domainHandle(h)
	if !ok {
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	accts := c.accountsIn(dom, c.s.directory(c.ctx), SIDTypeUser, SIDTypeGroup, SIDTypeAlias)
	names := make([]string, len(rids))
	uses := make([]uint32, len(rids))
	mapped := 0
	for i, rid := range rids {
		uses[i] = uint32(SIDTypeUnknown)
		for _, a := range accts {
			if ridOf(a.SID) == rid {
				names[i], uses[i] = a.Name, uint32(a.Type)
				mapped++
				break
			}
		}
	}
	w.u32(uint32(len(names)))
	if w.ptr(len(names) > 0) {
		w.u32(uint32(len(names)))
		for _, n := range names {
			w.ustrHead(n)
		}
		for _, n := range names {
			w.ustrBody(n)
		}
	}
	w.writeULongs(uses)
	return w.status(mappedStatus(mapped, len(rids))), 0
}

// samrOpenUser answers SamrOpenUser (MS-SAMR 3.1.5.1.9).
func (c *call) samrOpenUser() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	r.u32() // DesiredAccess
	rid := r.u32()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	dom, ok := c.domainHandle(h)
	if !ok {
		w.handle([20]byte{})
		return w.status(statusInvalidHandle), 0
	}
	for _, a := range c.accountsIn(dom, c.s.directory(c.ctx), SIDTypeUser) {
		if ridOf(a.SID) == rid {
			return c.newHandle(&samrUser{dom: dom, acct: a})
		}
	}
	w.handle([20]byte{})
	return w.status(statusNoSuchUser), 0
}

// User account control bits (MS-SAMR 2.2.1.12).
const (
	uacAccountDisabled = 0x00000001
	uacNormalAccount   = 0x00000010
	uacDontExpirePass  = 0x00000200
)

const ridDomainUsers = 513

// samrQueryUserInfo answers SamrQueryInformationUser and 2 (MS-SAMR
// 3.1.5.5.5-6) at the levels that describe an account without its
// secrets.
func (c *call) samrQueryUserInfo() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	level := r.u16()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	u, ok := handleOf[*samrUser](c, h)
	if !ok {
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	a := u.acct
	rid := ridOf(a.SID)
	uac := uint32(uacNormalAccount | uacDontExpirePass)
	if a.Disabled {
		uac |= uacAccountDisabled
	}
	var fs []field
	switch level {
	case 1: // SAMPR_USER_GENERAL_INFORMATION
		fs = []field{strf(a.Name), strf(a.FullName), u32f(ridDomainUsers), strf(a.Comment), strf("")}
	case 2: // SAMPR_USER_PREFERENCES_INFORMATION
		fs = []field{strf(""), strf(""), u16f(0), u16f(0)}
	case 3: // SAMPR_USER_LOGON_INFORMATION
		fs = []field{strf(a.Name), strf(a.FullName), u32f(rid), u32f(ridDomainUsers),
			strf(""), strf(""), strf(""), strf(""), strf(""),
			timef(0), timef(0), timef(0), timef(0), neverf(), fieldOf('h'), u16f(0), u16f(0), u32f(uac)}
	case 4: // SAMPR_USER_LOGON_HOURS_INFORMATION
		fs = []field{fieldOf('h')}
	case 5: // SAMPR_USER_ACCOUNT_INFORMATION
		fs = []field{strf(a.Name), strf(a.FullName), u32f(rid), u32f(ridDomainUsers),
			strf(""), strf(""), strf(""), strf(""), strf(a.Comment), strf(""),
			timef(0), timef(0), fieldOf('h'), u16f(0), u16f(0), timef(0), neverf(), u32f(uac)}
	case 6: // SAMPR_USER_NAME_INFORMATION
		fs = []field{strf(a.Name), strf(a.FullName)}
	case 7:
		fs = []field{strf(a.Name)}
	case 8:
		fs = []field{strf(a.FullName)}
	case 9: // USER_PRIMARY_GROUP_INFORMATION
		fs = []field{u32f(ridDomainUsers)}
	case 10: // SAMPR_USER_HOME_INFORMATION
		fs = []field{strf(""), strf("")}
	case 11, 12, 14, 20: // script path, profile path, workstations, parameters
		fs = []field{strf("")}
	case 13: // SAMPR_USER_ADMIN_COMMENT_INFORMATION
		fs = []field{strf(a.Comment)}
	case 16: // USER_CONTROL_INFORMATION
		fs = []field{u32f(uac)}
	case 17: // USER_EXPIRES_INFORMATION
		fs = []field{neverf()}
	case 21: // SAMPR_USER_ALL_INFORMATION, without secrets
		fs = []field{timef(0), timef(0), timef(0), neverf(), timef(0), neverf(),
			strf(a.Name), strf(a.FullName), strf(""), strf(""), strf(""), strf(""),
			strf(a.Comment), strf(""), strf(""), strf(""),
			fieldOf('b'), fieldOf('b'), strf(""), fieldOf('d'),
			u32f(rid), u32f(ridDomainUsers), u32f(uac), u32f(userAllReadable),
			fieldOf('h'), u16f(0), u16f(0), u16f(0), u16f(0),
			u8f(0), u8f(0), u8f(0), u8f(0)}
	default:
		w.u32(0)
		return w.status(statusInvalidInfoClass), 0
	}
	w.ref()
	w.u16(level)
	w.writeFields(fs...)
	return w.status(statusSuccess), 0
}

// userAllReadable is the WhichFields of a level 21 answer: every field
// but the secrets (MS-SAMR 2.2.1.8).
const userAllReadable = 0x00FFFFFF &^ (0x01000000 | 0x02000000 | 0x00000800 | 0x00080000)

// samrGetGroupsForUser answers SamrGetGroupsForUser (MS-SAMR 3.1.5.9.1):
// the account domain's groups the user is in.
func (c *call) samrGetGroupsForUser() ([]byte, uint32) {
	h := c.r.handle()
	if c.r.err != nil {
		return c.bad()
	}
	w := &writer{}
	u, ok := handleOf[*samrUser](c, h)
	if !ok {
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	var rids []uint32
	for _, g := range u.acct.MemberOf {
		if domainOf(g).Equal(u.dom.sid) {
			rids = append(rids, ridOf(g))
		}
	}
	w.ref()
	w.u32(uint32(len(rids)))
	if w.ptr(len(rids) > 0) {
		w.u32(uint32(len(rids)))
		for _, rid := range rids {
			w.u32(rid)
			w.u32(7) // SE_GROUP_MANDATORY | ENABLED_BY_DEFAULT | ENABLED
		}
	}
	return w.status(statusSuccess), 0
}

// samrGetUserPwInfo answers SamrGetUserDomainPasswordInformation (MS-SAMR
// 3.1.5.13.3): no password policy.
func (c *call) samrGetUserPwInfo() ([]byte, uint32) {
	h := c.r.handle()
	if c.r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if _, ok := handleOf[*samrUser](c, h); !ok {
		w.u16(0)
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	w.u16(0)
	w.u32(0)
	return w.status(statusSuccess), 0
}

// samrGetAliasMembership answers SamrGetAliasMembership (MS-SAMR
// 3.1.5.9.2): the aliases of the handle's domain the SIDs are members of.
func (c *call) samrGetAliasMembership() ([]byte, uint32) {
	r := c.r
	h := r.handle()
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
			if p {
				sids = append(sids, r.sid())
			}
		}
	}
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	dom, ok := c.domainHandle(h)
	if !ok {
		w.u32(0)
		w.u32(0)
		return w.status(statusInvalidHandle), 0
	}
	d := c.s.directory(c.ctx)
	var rids []uint32
	add := func(s winacl.SID) {
		if !domainOf(s).Equal(dom.sid) {
			return
		}
		if a, ok := d.bySID(s); !ok || a.Type != SIDTypeAlias {
			return
		}
		for _, x := range rids {
			if x == ridOf(s) {
				return
			}
		}
		rids = append(rids, ridOf(s))
	}
	for _, s := range sids {
		if a, ok := d.bySID(s); ok {
			for _, m := range a.MemberOf {
				add(m)
			}
		}
	}
	w.writeULongs(rids)
	return w.status(statusSuccess), 0
}
