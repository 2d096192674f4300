package rpc

import (
	"context"
	"strings"

	"github.com/cifsd/cifsd/winacl"
)

// SIDType is what a SID names (MS-LSAT 2.2.13 SID_NAME_USE).
type SIDType uint16

// SID types.
const (
	SIDTypeUser           SIDType = 1
	SIDTypeGroup          SIDType = 2 // a group of the account domain
	SIDTypeDomain         SIDType = 3
	SIDTypeAlias          SIDType = 4 // a local group (BUILTIN's)
	SIDTypeWellKnownGroup SIDType = 5
	SIDTypeUnknown        SIDType = 8
)

// Account is one user or group of the server's directory.
type Account struct {
	// Name is the account name, without its domain.
	Name string
	// Domain is the NetBIOS name of the account's domain; "" is the
	// server's own account domain (Directory.DomainSID). Kerberos users
	// keep the domain their PAC names.
	Domain string
	// SID is the account's SID: the one cifsd puts in security
	// descriptors for it.
	SID winacl.SID
	// Type is SIDTypeUser, SIDTypeGroup or SIDTypeAlias.
	Type SIDType
	// FullName and Comment describe the account (samr's QueryUserInfo).
	FullName, Comment string
	// MemberOf lists the groups and aliases a user belongs to.
	MemberOf []winacl.SID
	// Disabled marks an account that cannot log on.
	Disabled bool
}

// Directory is the account directory lsarpc and samr serve: the server's
// users and groups and the SIDs it gives them. Package smb implements it.
type Directory interface {
	// DomainSID is the SID of the server's account domain
	// (S-1-5-21-x-y-z), whose RIDs name its users and groups.
	DomainSID() winacl.SID
	// Accounts lists the users and groups, the server's and those of the
	// Kerberos users it has seen.
	Accounts(ctx context.Context) []Account
}

// Well-known SIDs and the BUILTIN aliases (MS-DTYP 2.4.2.4), named as
// Windows names them.
var (
	sidNTAuthority = winacl.SID{Authority: 5}
	sidBuiltin     = winacl.SID{Authority: 5, Sub: []uint32{32}}
	// BuiltinAdministrators is BUILTIN\Administrators (S-1-5-32-544).
	BuiltinAdministrators = winacl.SID{Authority: 5, Sub: []uint32{32, 544}}
	// BuiltinGuests is BUILTIN\Guests (S-1-5-32-546).
	BuiltinGuests = winacl.SID{Authority: 5, Sub: []uint32{32, 546}}
)

// wellKnown are the SIDs that name themselves in every domain.
var wellKnown = []Account{
	{Name: "Everyone", SID: winacl.Everyone, Type: SIDTypeWellKnownGroup},
	{Name: "CREATOR OWNER", SID: winacl.CreatorOwner, Type: SIDTypeWellKnownGroup},
	{Name: "CREATOR GROUP", SID: winacl.CreatorGroup, Type: SIDTypeWellKnownGroup},
	{Name: "OWNER RIGHTS", SID: winacl.OwnerRights, Type: SIDTypeWellKnownGroup},
	{Name: "DIALUP", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{1}}, Type: SIDTypeWellKnownGroup},
	{Name: "NETWORK", Domain: "NT AUTHORITY", SID: winacl.Network, Type: SIDTypeWellKnownGroup},
	{Name: "BATCH", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{3}}, Type: SIDTypeWellKnownGroup},
	{Name: "INTERACTIVE", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{4}}, Type: SIDTypeWellKnownGroup},
	{Name: "SERVICE", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{6}}, Type: SIDTypeWellKnownGroup},
	{Name: "ANONYMOUS LOGON", Domain: "NT AUTHORITY", SID: winacl.Anonymous, Type: SIDTypeWellKnownGroup},
	{Name: "SELF", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{10}}, Type: SIDTypeWellKnownGroup},
	{Name: "Authenticated Users", Domain: "NT AUTHORITY", SID: winacl.AuthenticatedUsers, Type: SIDTypeWellKnownGroup},
	{Name: "This Organization", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{15}}, Type: SIDTypeWellKnownGroup},
	{Name: "SYSTEM", Domain: "NT AUTHORITY", SID: winacl.LocalSystem, Type: SIDTypeWellKnownGroup},
	{Name: "LOCAL SERVICE", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{19}}, Type: SIDTypeWellKnownGroup},
	{Name: "NETWORK SERVICE", Domain: "NT AUTHORITY", SID: winacl.SID{Authority: 5, Sub: []uint32{20}}, Type: SIDTypeWellKnownGroup},
}

// builtinAliases are the local groups of the BUILTIN domain (S-1-5-32).
var builtinAliases = []Account{
	{Name: "Administrators", Domain: "BUILTIN", SID: BuiltinAdministrators, Type: SIDTypeAlias, Comment: "Administrators have complete and unrestricted access to the computer"},
	{Name: "Users", Domain: "BUILTIN", SID: winacl.BuiltinUsers, Type: SIDTypeAlias, Comment: "Users are prevented from making accidental or intentional system-wide changes"},
	{Name: "Guests", Domain: "BUILTIN", SID: BuiltinGuests, Type: SIDTypeAlias, Comment: "Guests have the same access as members of the Users group by default"},
	{Name: "Power Users", Domain: "BUILTIN", SID: winacl.SID{Authority: 5, Sub: []uint32{32, 547}}, Type: SIDTypeAlias},
	{Name: "Backup Operators", Domain: "BUILTIN", SID: winacl.SID{Authority: 5, Sub: []uint32{32, 551}}, Type: SIDTypeAlias},
}

// domainOf returns a SID's domain: all but its last sub-authority.
func domainOf(s winacl.SID) winacl.SID {
	if len(s.Sub) == 0 {
		return s
	}
	return winacl.SID{Authority: s.Authority, Sub: s.Sub[:len(s.Sub)-1]}
}

func ridOf(s winacl.SID) uint32 {
	if len(s.Sub) == 0 {
		return 0
	}
	return s.Sub[len(s.Sub)-1]
}

// directory is one request's view of the names the server knows: the
// well-known ones, BUILTIN's and the Directory's, with the domains they
// belong to. Built per call: the Directory may change between calls.
type directory struct {
	accountName string     // the account domain's name: the server's
	accountSID  winacl.SID // the account domain's SID
	accounts    []Account  // every named SID
}

func (s *Server) directory(ctx context.Context) *directory {
	d := &directory{accountName: strings.ToUpper(s.serverName())}
	d.accounts = append(d.accounts, wellKnown...)
	d.accounts = append(d.accounts, builtinAliases...)
	if s.Accounts != nil {
		d.accountSID = s.Accounts.DomainSID()
		d.accounts = append(d.accounts, s.Accounts.Accounts(ctx)...)
	}
	return d
}

// domainName is the name of a SID's domain as LSA reports it; ok is false
// for a domain the server does not know.
func (d *directory) domainName(sid winacl.SID) (string, bool) {
	switch {
	case sid.Equal(d.accountSID) && len(sid.Sub) > 0:
		return d.accountName, true
	case sid.Equal(sidBuiltin):
		return "BUILTIN", true
	case sid.Equal(sidNTAuthority):
		return "NT AUTHORITY", true
	}
	for _, a := range d.accounts {
		if a.Domain != "" && domainOf(a.SID).Equal(sid) && a.Type != SIDTypeWellKnownGroup {
			return a.Domain, true
		}
	}
	return "", false
}

// bySID finds the account a SID names. A domain SID names its domain.
func (d *directory) bySID(sid winacl.SID) (Account, bool) {
	for _, a := range d.accounts {
		if a.SID.Equal(sid) {
			if a.Domain == "" && a.Type != SIDTypeWellKnownGroup {
				a.Domain = d.accountName
			}
			return a, true
		}
	}
	if name, ok := d.domainName(sid); ok {
		return Account{Name: name, Domain: name, SID: sid, Type: SIDTypeDomain}, true
	}
	return Account{}, false
}

// byName finds an account by "DOMAIN\name", "name@domain" or a bare
// name, case-insensitively, as MS-LSAT 3.1.4.5 resolves isolated names:
// well-known names first, then BUILTIN, then the account domain, then the
// other domains the server knows. A domain's name alone names the domain.
func (d *directory) byName(full string) (Account, bool) {
	if full == "" && len(d.accountSID.Sub) > 0 {
		// An empty name is the account domain (MS-LSAT 3.1.4.5).
		return Account{Name: d.accountName, Domain: d.accountName, SID: d.accountSID, Type: SIDTypeDomain}, true
	}
	dom, name, qualified := strings.Cut(full, `\`)
	if !qualified {
		if n, dm, ok := strings.Cut(full, "@"); ok {
			dom, name, qualified = dm, n, true
		} else {
			dom, name = "", full
		}
	}
	if qualified && name == "" {
		name, qualified = dom, false // "DOMAIN\" is the domain
	}
	norm := func(a Account) Account {
		if a.Domain == "" && a.Type != SIDTypeWellKnownGroup {
			a.Domain = d.accountName
		}
		return a
	}
	if qualified && strings.EqualFold(dom, "WORKGROUP") {
		return Account{}, false
	}
	for _, a := range d.accounts {
		a = norm(a)
		if !strings.EqualFold(a.Name, name) {
			continue
		}
		if qualified && !strings.EqualFold(a.Domain, dom) {
			continue
		}
		return a, true
	}
	if !qualified {
		for _, dn := range []struct {
			name string
			sid  winacl.SID
		}{{d.accountName, d.accountSID}, {"BUILTIN", sidBuiltin}, {"NT AUTHORITY", sidNTAuthority}} {
			if strings.EqualFold(dn.name, name) && (len(dn.sid.Sub) > 0 || dn.sid.Authority != 0) {
				return Account{Name: dn.name, Domain: dn.name, SID: dn.sid, Type: SIDTypeDomain}, true
			}
		}
	}
	return Account{}, false
}

// inDomain lists the accounts of a domain SID of the given types, in RID
// order of appearance.
func (d *directory) inDomain(dom winacl.SID, types ...SIDType) []Account {
	var out []Account
	for _, a := range d.accounts {
		if !domainOf(a.SID).Equal(dom) || len(a.SID.Sub) == 0 {
			continue
		}
		for _, t := range types {
			if a.Type == t {
				out = append(out, a)
				break
			}
		}
	}
	return out
}
