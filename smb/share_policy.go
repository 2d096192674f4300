package smb

import (
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// The share options of smb.conf that the server enforces (Share's fields
// from InvalidUsers on): who may connect, who may write, which names are
// hidden or refused, the modes new files get, and how many may connect.
// Each check is a method here; the request handlers call them in one line.

// admitTree decides a TREE_CONNECT of s to sh (MS-SMB2 3.3.5.7 leaves the
// authorization to the server): a share switched off (Unavailable) is not
// there; a guest needs GuestOK; a listed invalid user is refused even when
// also valid; with valid users set, only they are admitted.
func (sh *shareState) admitTree(s *Session) smb2.Status {
	if sh.cfg.Unavailable {
		return smb2.StatusBadNetworkName
	}
	if !sh.admits(s) {
		return smb2.StatusAccessDenied
	}
	return smb2.StatusSuccess
}

// admits reports whether s may connect to the share.
func (sh *shareState) admits(s *Session) bool {
	if s.isGuest() {
		return sh.cfg.Guest
	}
	user := s.Identity().User
	if sh.cfg.listed(sh.cfg.InvalidUsers, user) {
		return false
	}
	return len(sh.cfg.Users) == 0 || sh.cfg.listed(sh.cfg.Users, user)
}

// readOnlyFor is whether s's tree connect may not change anything: the
// share's ReadOnly, made read-only for the users of ReadList and writable
// for those of WriteList (WriteList wins, as in Samba).
func (sh *shareState) readOnlyFor(s *Session) bool {
	ro := sh.cfg.ReadOnly
	if s.isGuest() {
		return ro
	}
	user := s.Identity().User
	if sh.cfg.listed(sh.cfg.ReadList, user) {
		ro = true
	}
	if sh.cfg.listed(sh.cfg.WriteList, user) {
		ro = false
	}
	return ro
}

// listed reports whether user is named in list, directly or through an
// "@group" entry that InGroup says user belongs to.
func (c *Share) listed(list []string, user string) bool {
	for _, e := range list {
		if g, ok := strings.CutPrefix(e, "@"); ok {
			if c.InGroup != nil && c.InGroup(user, g) {
				return true
			}
			continue
		}
		if strings.EqualFold(e, user) {
			return true
		}
	}
	return false
}

// treeCount counts the tree connects of a share for MaxConnections. A tree
// is counted once however many times it is released.
type treeCount struct {
	mu    sync.Mutex
	trees map[*Tree]struct{}
}

// acquire counts t, or reports false when the share already has
// MaxConnections tree connects.
func (sh *shareState) acquire(t *Tree) bool {
	c := &sh.treeCount
	c.mu.Lock()
	defer c.mu.Unlock()
	if max := sh.cfg.MaxConnections; max > 0 && len(c.trees) >= max {
		return false
	}
	if c.trees == nil {
		c.trees = make(map[*Tree]struct{})
	}
	c.trees[t] = struct{}{}
	return true
}

// release stops counting t.
func (sh *shareState) release(t *Tree) {
	c := &sh.treeCount
	c.mu.Lock()
	delete(c.trees, t)
	c.mu.Unlock()
}

// vetoStatus refuses a path with a vetoed element (VetoFiles): the last
// element is not found, an earlier one makes the path not found, as Samba
// answers, so a vetoed name can be neither opened nor created nor renamed to.
func (sh *shareState) vetoStatus(name string) smb2.Status {
	if len(sh.cfg.VetoFiles) == 0 || name == "." {
		return smb2.StatusSuccess
	}
	elems := strings.Split(name, "/")
	for i, e := range elems {
		if matchAny(sh.cfg.VetoFiles, e) {
			if i == len(elems)-1 {
				return smb2.StatusObjectNameNotFound
			}
			return smb2.StatusObjectPathNotFound
		}
	}
	return smb2.StatusSuccess
}

// vetoed reports whether a name (one path element) is a veto file.
func (sh *shareState) vetoed(name string) bool {
	return len(sh.cfg.VetoFiles) > 0 && matchAny(sh.cfg.VetoFiles, name)
}

// hiddenAttrs adjusts the attributes reported for name (a path; fi its
// file): FILE_ATTRIBUTE_HIDDEN for a name HideFiles matches (the client
// then hides it, but it is listed and reachable, unlike a vetoed name);
// with ShowDotFiles, a dot name is not hidden unless the hidden attribute
// was set on it (metaOf hides dot names, as Samba's "hide dot files = yes"
// does by default).
func (sh *shareState) hiddenAttrs(name string, fi fs.FileInfo, attrs uint32) uint32 {
	base := path.Base(name)
	if base == "." || base == ".." || base == "/" {
		return attrs
	}
	if sh.cfg.ShowDotFiles && strings.HasPrefix(base, ".") && storedAttributes(fi)&fscc.FileAttributeHidden == 0 {
		attrs &^= fscc.FileAttributeHidden
		if attrs == 0 {
			attrs = fscc.FileAttributeNormal
		}
	}
	if matchAny(sh.cfg.HideFiles, base) {
		attrs = attrs&^fscc.FileAttributeNormal | fscc.FileAttributeHidden
	}
	return attrs
}

// createMode is the permission a new file is created with: perm limited by
// CreateMask, then ForceCreateMode added (Samba's "create mask" and "force
// create mode").
func (sh *shareState) createMode(perm fs.FileMode) fs.FileMode {
	if sh.cfg.CreateMask != 0 {
		perm &= sh.cfg.CreateMask
	}
	return perm | sh.cfg.ForceCreateMode
}

// dirMode is createMode for a new directory (DirectoryMask and
// ForceDirectoryMode).
func (sh *shareState) dirMode(perm fs.FileMode) fs.FileMode {
	if sh.cfg.DirectoryMask != 0 {
		perm &= sh.cfg.DirectoryMask
	}
	return perm | sh.cfg.ForceDirectoryMode
}

// oplockRequest withdraws a CREATE's oplock or lease request on a share
// with NoOplocks: the open gets neither, so no client caches its data.
func (sh *shareState) oplockRequest(lr *leaseRequest, level uint8) (*leaseRequest, uint8) {
	if sh.cfg.NoOplocks {
		return nil, smb2.OplockLevelNone
	}
	return lr, level
}

// matchAny reports whether name matches one of the patterns, compared
// case-insensitively with '*' (any run) and '?' (one character) wildcards,
// as Samba matches "veto files" and "hide files".
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if wildMatch(strings.ToLower(p), strings.ToLower(name)) {
			return true
		}
	}
	return false
}

// wildMatch matches name against pattern ('*' and '?'), iteratively: the
// last '*' is retried one character further on a mismatch, so the work is
// bounded by len(pattern)*len(name).
func wildMatch(pattern, name string) bool {
	p, n := []rune(pattern), []rune(name)
	pi, ni := 0, 0
	star, mark := -1, 0
	for ni < len(n) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == n[ni]):
			pi++
			ni++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ni
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ni = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// browsable reports whether share listings name the share.
func (c *Share) browsable() bool { return !c.Hidden && !c.Unavailable }

// attrStore is the backend's store of DOS attributes, unless the share
// keeps them out of it (NoDOSAttributes).
func (sh *shareState) attrStore() (vfs.AttrStore, bool) {
	if sh.cfg.NoDOSAttributes {
		return nil, false
	}
	return vfs.As[vfs.AttrStore](sh.cfg.FS)
}

// hiddenAttrs is shareState.hiddenAttrs for the open's file.
func (o *Open) hiddenAttrs(fi fs.FileInfo, attrs uint32) uint32 {
	o.mu.Lock()
	name := o.name
	o.mu.Unlock()
	return o.share.hiddenAttrs(name, fi, attrs)
}
