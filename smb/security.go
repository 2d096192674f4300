package smb

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io/fs"
	"slices"
	"strings"
	"sync"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
	"github.com/cifsd/cifsd/winacl"
)

// Security descriptors (MS-DTYP 2.4.6) of files: kept by backends that
// implement vfs.SDStore, checked by CREATE (security_access.go), read and written
// by QUERY_INFO and SET_INFO (MS-SMB2 3.3.5.20.3, 3.3.5.21.3). A file
// without a stored descriptor has the default one (defaultSD). With a
// backend that stores none, every file has the default one and SET_INFO
// is accepted and ignored, as before descriptors were kept.

// localDomain is the domain SID of the users cifsd authenticates itself
// (NTLM), S-1-5-21-x-y-z: the same on every server, so that descriptors
// stay meaningful when a share moves.
var localDomain = func() winacl.SID {
	h := sha256.Sum256([]byte("cifsd local domain"))
	return winacl.SID{Authority: 5, Sub: []uint32{21,
		binary.LittleEndian.Uint32(h[0:]), binary.LittleEndian.Uint32(h[4:]), binary.LittleEndian.Uint32(h[8:])}}
}()

func domainSID(rid uint32) winacl.SID {
	return winacl.SID{Authority: 5, Sub: append(append([]uint32(nil), localDomain.Sub...), rid)}
}

// Relative ids of the local domain (MS-DTYP 2.4.2.4).
const (
	ridGuest       = 501
	ridDomainUsers = 513
)

// userSID is the SID of a user of the local domain: a RID above 1000
// derived from the name (case-insensitive, as Windows account names are).
func userSID(name string) winacl.SID {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(name)))
	return domainSID(1000 + h.Sum32()%0x3FFFFFFF)
}

// tokenOf returns the SIDs an identity acts with: the PAC's when the
// mechanism gave them (Kerberos), else a local-domain user SID; and the
// groups every session of that kind belongs to.
func tokenOf(id auth.Identity) *winacl.Token {
	t := &winacl.Token{}
	switch {
	case id.Anonymous:
		t.User = winacl.Anonymous
		t.Groups = []winacl.SID{winacl.Everyone, winacl.Network}
		return t
	case id.Guest:
		t.User = domainSID(ridGuest)
		t.Groups = []winacl.SID{winacl.Everyone, winacl.Network, domainSID(ridDomainUsers)}
		return t
	}
	var pac []winacl.SID
	for _, s := range id.SIDs {
		if sid, err := winacl.ParseSID(s); err == nil {
			pac = append(pac, sid)
		}
	}
	if len(pac) > 0 {
		t.User, t.Groups = pac[0], pac[1:]
	} else {
		t.User = userSID(id.User)
		t.Groups = []winacl.SID{domainSID(ridDomainUsers)}
	}
	t.Groups = append(t.Groups, winacl.Everyone, winacl.Network, winacl.AuthenticatedUsers, winacl.BuiltinUsers)
	return t
}

// tokenFor is tokenOf with the local groups (Accounts.Groups) a local
// user belongs to, so that an ACE for a group grants its members access.
// A Kerberos user's groups are the PAC's; guests and anonymous users
// belong to no local group.
func (s *Server) tokenFor(id auth.Identity) *winacl.Token {
	t := tokenOf(id)
	if s == nil || id.Anonymous || id.Guest || len(id.SIDs) > 0 {
		return t
	}
	for _, g := range s.Accounts.Groups {
		if slices.ContainsFunc(g.Members, func(m string) bool { return strings.EqualFold(m, id.User) }) {
			t.Groups = append(t.Groups, groupSID(g.Name))
		}
	}
	return t
}

// token is the token the session's user acts with now, made once per
// identity (a re-authentication replaces it) and shared by the requests,
// which do not change it. Accounts.Groups, the other input, does not
// change while the server serves (Server's fields).
func (sess *Session) token() *winacl.Token {
	id := sess.identity.Load()
	if c := sess.tok.Load(); c != nil && c.id == id {
		return c.t
	}
	var ident auth.Identity
	if id != nil {
		ident = *id
	}
	t := sess.srv.tokenFor(ident)
	sess.tok.Store(&sessionToken{id: id, t: t})
	return t
}

// sessionToken is a session's token and the identity it was made for.
type sessionToken struct {
	id *auth.Identity
	t  *winacl.Token
}

// primaryGroup is the group a new file of t gets.
func primaryGroup(t *winacl.Token) winacl.SID {
	if len(t.Groups) > 0 && !t.Groups[0].Equal(winacl.Everyone) {
		return t.Groups[0]
	}
	return domainSID(ridDomainUsers)
}

// sdStore returns the share's descriptor store, if its backend has one.
func (sh *shareState) sdStore() (vfs.SDStore, bool) {
	st, ok := vfs.As[vfs.SDStore](sh.cfg.FS)
	return st, ok
}

// defaultSD is the descriptor of a file none was stored for: owned by
// whoever asks, full control to the owner and to Everyone, as cifsd
// served before it kept descriptors. A directory hands both on to what is
// created in it (the owner as CREATOR OWNER).
func defaultSD(t *winacl.Token, isDir bool) *winacl.SecurityDescriptor {
	owner, group := t.User, primaryGroup(t)
	all := winacl.FileMapping.All
	dacl := &winacl.ACL{Revision: 2}
	dacl.ACEs = append(dacl.ACEs, winacl.ACE{Type: winacl.AccessAllowed, Mask: all, SID: owner})
	inherit := uint8(0)
	if isDir {
		inherit = winacl.ObjectInherit | winacl.ContainerInherit
		dacl.ACEs = append(dacl.ACEs, winacl.ACE{Type: winacl.AccessAllowed,
			Flags: inherit | winacl.InheritOnly, Mask: all, SID: winacl.CreatorOwner})
	}
	dacl.ACEs = append(dacl.ACEs, winacl.ACE{Type: winacl.AccessAllowed, Flags: inherit, Mask: all, SID: winacl.Everyone})
	return &winacl.SecurityDescriptor{
		Control: winacl.SelfRelative | winacl.DACLPresent,
		Owner:   &owner, Group: &group, DACL: dacl,
	}
}

// fileSD returns the descriptor of name: the stored one or the default.
func (sh *shareState) fileSD(ctx context.Context, name string, isDir bool, t *winacl.Token) *winacl.SecurityDescriptor {
	if b := sh.storedSD(ctx, name, nil); b != nil {
		if sd, err := winacl.Decode(b); err == nil {
			return sd
		}
	}
	return defaultSD(t, isDir)
}

// accessSD is fileSD for an access check, which only reads the
// descriptor: a stored one comes decoded from sdDecoded, shared. fi, when
// not nil, is name's FileInfo, which may carry the descriptor (storedSD).
func (sh *shareState) accessSD(ctx context.Context, name string, fi fs.FileInfo, isDir bool, t *winacl.Token) *winacl.SecurityDescriptor {
	if b := sh.storedSD(ctx, name, fi); b != nil {
		if sd := sdDecoded.decode(b); sd != nil {
			return sd
		}
	}
	return defaultSD(t, isDir)
}

// storedSD is the descriptor stored for name, nil when none is (or the
// backend keeps none). fi, when not nil, is name's FileInfo: when it
// carries the descriptor, read with it (vfs.SDInfo: Dir's Stat), that
// costs no further backend call.
func (sh *shareState) storedSD(ctx context.Context, name string, fi fs.FileInfo) []byte {
	st, ok := sh.sdStore()
	if !ok {
		return nil
	}
	if si, ok := fi.(vfs.SDInfo); ok {
		if b, known := si.StoredSecurityDescriptor(st); known {
			return b
		}
	}
	b, err := st.SecurityDescriptor(ctx, name)
	if err != nil {
		return nil
	}
	return b
}

// sdDecoded remembers descriptors decoded for access checks, by their
// encoding: the files of a tree mostly carry the few descriptors they
// inherited, and every CREATE of an existing file checks one. Entries are
// never changed (MaximalAccess reads them).
var sdDecoded = sdDecodeCache{m: make(map[string]*winacl.SecurityDescriptor)}

// maxSDDecoded bounds sdDecoded; it is emptied when full.
const maxSDDecoded = 256

type sdDecodeCache struct {
	mu sync.Mutex
	m  map[string]*winacl.SecurityDescriptor
}

// decode returns b decoded, nil when it does not decode.
func (c *sdDecodeCache) decode(b []byte) *winacl.SecurityDescriptor {
	c.mu.Lock()
	sd := c.m[string(b)]
	c.mu.Unlock()
	if sd != nil {
		return sd
	}
	sd, err := winacl.Decode(b)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	if len(c.m) >= maxSDDecoded {
		clear(c.m)
	}
	c.m[string(b)] = sd
	c.mu.Unlock()
	return sd
}

// parentName is the directory that holds name ("" for the share root).
func parentName(name string) string {
	if name == "." || name == "" {
		return ""
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return "."
}

// querySecurity answers QUERY_INFO for SMB2_0_INFO_SECURITY: the parts of
// the descriptor AdditionalInformation names (MS-SMB2 3.3.5.20.3; MS-FSA
// 2.1.5.13 for the rights each part needs).
func (s *Server) querySecurity(ctx context.Context, o *Open, info uint32) ([]byte, smb2.Status) {
	if info&(winacl.OwnerInfo|winacl.GroupInfo|winacl.DACLInfo) != 0 && o.access&smb2.ReadControl == 0 ||
		info&winacl.SACLInfo != 0 && o.access&smb2.AccessSystemSecurity == 0 {
		return nil, smb2.StatusAccessDenied
	}
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	t := o.session.token()
	if o.pipe != nil {
		return defaultSD(t, false).Filter(info).Encode(), smb2.StatusSuccess
	}
	return o.share.fileSD(ctx, name, o.isDir, t).Filter(info).Encode(), smb2.StatusSuccess
}

// setSecurity applies SET_INFO for SMB2_0_INFO_SECURITY (MS-SMB2
// 3.3.5.21.3, MS-FSA 2.1.5.16): owner and group need WRITE_OWNER, the
// DACL WRITE_DAC. A SACL is accepted and not kept.
func (s *Server) setSecurity(ctx context.Context, o *Open, info uint32, b []byte) smb2.Status {
	if info&(winacl.OwnerInfo|winacl.GroupInfo) != 0 && o.access&smb2.WriteOwner == 0 ||
		info&winacl.DACLInfo != 0 && o.access&smb2.WriteDAC == 0 ||
		info&winacl.SACLInfo != 0 && o.access&smb2.AccessSystemSecurity == 0 {
		return smb2.StatusAccessDenied
	}
	in, err := winacl.Decode(b)
	if err != nil {
		return smb2.StatusInvalidParameter
	}
	st, ok := o.share.sdStore()
	if !ok || o.pipe != nil {
		return smb2.StatusSuccess
	}
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	sd := o.share.fileSD(ctx, name, o.isDir, o.session.token())
	if info&winacl.OwnerInfo != 0 && in.Owner != nil {
		sd.Owner = in.Owner
	}
	if info&winacl.GroupInfo != 0 && in.Group != nil {
		sd.Group = in.Group
	}
	if info&winacl.DACLInfo != 0 {
		// No DACL_PRESENT sets a NULL DACL (as Windows answers
		// smb2.create.nulldacl).
		dacl := winacl.DACLPresent | winacl.DACLDefaulted | winacl.DACLAutoInherited | winacl.DACLProtected
		sd.Control = sd.Control&^dacl | winacl.SetControl(in.Control)
		sd.DACL = nil
		if in.Control&winacl.DACLPresent != 0 {
			sd.DACL = winacl.NormalizeDACL(in.DACL)
		}
	}
	if !sd.Valid() {
		return smb2.StatusInvalidParameter
	}
	if err := st.SetSecurityDescriptor(ctx, name, sd.Encode()); err != nil {
		s.logger().Debug("set security descriptor", "name", name, "err", err)
		if errors.Is(err, errors.ErrUnsupported) {
			return smb2.StatusSuccess // a file system without xattrs: as before
		}
		return statusOf(err)
	}
	return smb2.StatusSuccess
}
