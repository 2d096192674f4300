package smb

import (
	"context"
	"slices"
	"strings"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/rpc"
	"github.com/cifsd/cifsd/winacl"
)

// Accounts is the server's local account directory: the users and groups
// lsarpc and samr name and enumerate (Explorer's Security tab, smbcacls,
// "Select Users or Groups", rpcclient), and who administers the server.
// Their SIDs are those cifsd puts in security descriptors (security.go).
// The zero value knows no users; the users seen in sessions are named
// anyway.
type Accounts struct {
	// Users are the local users' names: those the authentication
	// mechanism knows (ntlm.Passwords' keys).
	Users []string
	// Groups are local groups of the account domain and their members,
	// which lsarpc and samr name and enumerate. A member's token holds the
	// group's SID (security.go's tokenFor), so an ACE for the group
	// grants or denies its members.
	Groups []Group
	// Admins are the members of BUILTIN\Administrators: they may list and
	// close other users' sessions and open files over srvsvc.
	Admins []string
}

// Group is a local group.
type Group struct {
	Name    string
	Members []string
}

// groupSID is the SID of a local group: like a user's, derived from its
// name, in a different space so a group and a user may share a name.
func groupSID(name string) winacl.SID { return userSID("group:" + name) }

// isAdmin reports whether id is one of Accounts.Admins.
func (s *Server) isAdmin(id auth.Identity) bool {
	if id.Guest || id.Anonymous {
		return false
	}
	return slices.ContainsFunc(s.Accounts.Admins, func(a string) bool { return strings.EqualFold(a, id.User) })
}

// directory implements rpc.Directory over Accounts and the sessions.
type directory struct{ s *Server }

func (d directory) DomainSID() winacl.SID { return localDomain }

func (d directory) Accounts(ctx context.Context) []rpc.Account {
	s := d.s
	none := domainSID(ridDomainUsers)
	out := []rpc.Account{
		{Name: "None", SID: none, Type: rpc.SIDTypeGroup, Comment: "Ordinary users"},
		{Name: "Guest", SID: domainSID(ridGuest), Type: rpc.SIDTypeUser, Comment: "Built-in account for guest access",
			MemberOf: []winacl.SID{none, rpc.BuiltinGuests}},
	}
	for _, g := range s.Accounts.Groups {
		out = append(out, rpc.Account{Name: g.Name, SID: groupSID(g.Name), Type: rpc.SIDTypeGroup})
	}
	seen := map[string]bool{}
	addUser := func(name string) {
		if seen[strings.ToUpper(name)] {
			return
		}
		seen[strings.ToUpper(name)] = true
		a := rpc.Account{Name: name, SID: userSID(name), Type: rpc.SIDTypeUser,
			MemberOf: []winacl.SID{none, winacl.BuiltinUsers}}
		for _, g := range s.Accounts.Groups {
			if slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, name) }) {
				a.MemberOf = append(a.MemberOf, groupSID(g.Name))
			}
		}
		if s.isAdmin(auth.Identity{User: name}) {
			a.MemberOf = append(a.MemberOf, rpc.BuiltinAdministrators)
		}
		out = append(out, a)
	}
	for _, u := range s.Accounts.Users {
		addUser(u)
	}
	// The users of live sessions: local ones not listed, and Kerberos
	// users with the SIDs and domain of their PAC.
	for _, id := range s.sessionIdentities() {
		if id.Anonymous || id.Guest || id.User == "" {
			continue
		}
		t := tokenOf(id)
		if len(id.SIDs) == 0 {
			addUser(id.User)
			continue
		}
		key := strings.ToUpper(id.Domain + `\` + id.User)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, rpc.Account{Name: id.User, Domain: strings.ToUpper(id.Domain), SID: t.User,
			Type: rpc.SIDTypeUser, MemberOf: t.Groups})
	}
	return out
}

// sessionIdentities returns the identities of the established sessions.
func (s *Server) sessionIdentities() []auth.Identity {
	sessions := s.liveSessions()
	out := make([]auth.Identity, 0, len(sessions))
	for _, sess := range sessions {
		out = append(out, sess.Identity())
	}
	return out
}

// callerOf is who a pipe opened by sess acts as.
func (s *Server) callerOf(sess *Session) *rpc.Caller {
	id := sess.Identity()
	t := s.tokenFor(id)
	c := &rpc.Caller{User: id.User, Domain: id.Domain, Token: *t, Admin: s.isAdmin(id),
		Guest: id.Guest, Anonymous: id.Anonymous}
	if c.Admin {
		c.Token.Groups = append(c.Token.Groups, rpc.BuiltinAdministrators)
	}
	if pc := sess.primary(); pc != nil {
		c.Client = hostOf(pc.remoteAddr)
	}
	return c
}
