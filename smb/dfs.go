package smb

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// DFS namespaces, standalone roots (MS-DFSC). A share with DFSRoot is a
// namespace: some of its folders are links whose contents live on other
// shares, here or on other servers. A CREATE whose path crosses a link
// answers STATUS_PATH_NOT_COVERED; the client then asks for a referral
// (FSCTL_DFS_GET_REFERRALS, dfsReferral) and opens the rest of the path
// on a target the referral names. The hooks elsewhere are one line each:
// NEGOTIATE (the DFS capability), TREE_CONNECT (dfsShareFlags), CREATE
// (dfsCreateName, dfsCovered), IOCTL (dfsReferral), QUERY_DIRECTORY
// (dfsDirEntry).

// DFSLink is a folder of a DFS namespace whose contents are elsewhere.
type DFSLink struct {
	// Targets are where the folder's contents are, each a UNC path:
	// `\\server\share` or `\\server\share\path` (a single leading
	// backslash, or '/' for '\', is accepted). Clients take the first
	// that answers.
	Targets []string
	// TTL is how long clients may cache the referral; 0 takes 1800 s,
	// Windows' default for links.
	TTL time.Duration
}

// DFSLinks finds the links of a DFS root (Share.DFSLinks).
type DFSLinks interface {
	// DFSLink reports whether name is a link of the namespace and its
	// targets. name is a path relative to the share root, as the backend
	// names files (elements separated by '/'), spelled as the client
	// spelled it: compare it case-insensitively.
	DFSLink(ctx context.Context, name string) (link DFSLink, ok bool, err error)
}

// DFSLinkMap is a fixed set of links by share-relative path ('/' or '\'
// between elements, matched case-insensitively). The folders need not
// exist in the backend, but only those that do are listed.
type DFSLinkMap map[string]DFSLink

// DFSLink looks name up in the map.
func (m DFSLinkMap) DFSLink(ctx context.Context, name string) (DFSLink, bool, error) {
	if l, ok := m[name]; ok {
		return l, true, nil
	}
	for k, l := range m {
		if strings.EqualFold(strings.ReplaceAll(strings.Trim(k, `\/`), `\`, "/"), name) {
			return l, true, nil
		}
	}
	return DFSLink{}, false, nil
}

// TTLs of referrals (Windows' defaults): a root's, and a link's unless
// the link says otherwise.
const (
	dfsRootTTL = 300 * time.Second
	dfsLinkTTL = 1800 * time.Second
)

// ioReparseTagDFS is the reparse tag a link is listed with (MS-FSCC
// 2.1.2.1, IO_REPARSE_TAG_DFS).
const ioReparseTagDFS = 0x8000000A

// msdfsPrefix starts the target of a symbolic link that is a DFS link, as
// Samba stores links: "msdfs:HOST\SHARE[,HOST\SHARE...]".
const msdfsPrefix = "msdfs:"

// isDFSRoot reports whether the share is served as a DFS root.
func (sh *shareState) isDFSRoot(s *Server) bool {
	return !s.DisableDFS && !sh.ipc && sh.cfg.DFSRoot
}

// dfsLink reports whether name (a cleaned, '/'-separated path as the
// client spelled it) is a link of the share: through Share.DFSLinks, or,
// without it, a symbolic link of the backend whose target starts with
// "msdfs:". A backend error counts as no link.
func (sh *shareState) dfsLink(ctx context.Context, name string) (DFSLink, bool) {
	if sh.cfg.DFSLinks != nil {
		l, ok, err := sh.cfg.DFSLinks.DFSLink(ctx, name)
		return l, ok && err == nil && len(l.Targets) > 0
	}
	rl, ok := vfs.As[vfs.Readlinker](sh.cfg.FS)
	if !ok {
		return DFSLink{}, false
	}
	target, err := rl.Readlink(ctx, name)
	if err != nil {
		return DFSLink{}, false
	}
	targets, ok := parseMSDFS(target)
	return DFSLink{Targets: targets}, ok
}

// parseMSDFS reads a symbolic link's target in Samba's form,
// "msdfs:HOST\SHARE[\PATH][,HOST\SHARE...]", into UNC targets.
func parseMSDFS(target string) ([]string, bool) {
	if len(target) < len(msdfsPrefix) || !strings.EqualFold(target[:len(msdfsPrefix)], msdfsPrefix) {
		return nil, false
	}
	var out []string
	for _, t := range strings.Split(target[len(msdfsPrefix):], ",") {
		if t = dfsTarget(t); t != "" {
			out = append(out, t)
		}
	}
	return out, len(out) > 0
}

// dfsTarget normalizes a target to MS-DFSC's `\server\share[\path]`; ""
// when it names no share.
func dfsTarget(t string) string {
	t = strings.Trim(strings.ReplaceAll(strings.TrimSpace(t), "/", `\`), `\`)
	server, share, _ := strings.Cut(t, `\`)
	if server == "" || strings.Trim(share, `\`) == "" {
		return ""
	}
	return `\` + t
}

// dfsCovered walks the elements of a share-relative path and returns the
// first link they cross (the path itself included) and how many elements
// name it. For links read from the backend each prefix is resolved
// case-insensitively; the walk stops at the first element that does not
// exist or is a file.
func (sh *shareState) dfsCovered(ctx context.Context, elems []string) (DFSLink, int, bool) {
	for i := range elems {
		prefix := strings.Join(elems[:i+1], "/")
		if sh.cfg.DFSLinks != nil {
			if l, ok := sh.dfsLink(ctx, prefix); ok {
				return l, i + 1, true
			}
			continue
		}
		name, fi, st := sh.resolve(ctx, prefix)
		if st != smb2.StatusSuccess || fi == nil {
			return DFSLink{}, 0, false
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			l, ok := sh.dfsLink(ctx, name)
			return l, i + 1, ok
		}
		if !fi.IsDir() {
			return DFSLink{}, 0, false
		}
	}
	return DFSLink{}, 0, false
}

// dfsCreateName takes the DFS prefix off a CREATE's name: with
// SMB2_FLAGS_DFS_OPERATIONS on a DFS root the name may be a DFS path,
// `[\]server\share[\path]` (MS-SMB2 2.2.13, 3.3.5.9), of which the path
// is the share's. A name whose second element is not the share's name is
// taken as a path of the share, as Samba does.
func (s *Server) dfsCreateName(req *Request, name string) string {
	sh := req.Tree.share
	if req.Header.Flags&smb2.FlagsDFSOperations == 0 || !sh.isDFSRoot(s) {
		return name
	}
	p := strings.TrimPrefix(name, `\`)
	_, rest, ok := strings.Cut(p, `\`)
	if !ok {
		return name
	}
	share, rest, _ := strings.Cut(rest, `\`)
	if !strings.EqualFold(share, sh.cfg.Name) {
		return name
	}
	return rest
}

// dfsCheck answers STATUS_PATH_NOT_COVERED for a CREATE of a cleaned
// path that crosses a link of a DFS root: the client asks for a referral
// and goes to the link's target.
func (s *Server) dfsCheck(ctx context.Context, req *Request, name string) smb2.Status {
	sh := req.Tree.share
	if name == "." || !sh.isDFSRoot(s) {
		return smb2.StatusSuccess
	}
	if _, _, ok := sh.dfsCovered(ctx, strings.Split(name, "/")); ok {
		return smb2.StatusPathNotCovered
	}
	return smb2.StatusSuccess
}

// dfsTargetCheck refuses a rename or hard link whose new name is through
// a link of a DFS root (STATUS_PATH_NOT_COVERED, as a CREATE there): the
// link's folder is on another share, and whatever the backend holds
// under its name is not what clients see.
func (o *Open) dfsTargetCheck(ctx context.Context, name string) smb2.Status {
	if o.session == nil || o.session.srv == nil || !o.share.isDFSRoot(o.session.srv) {
		return smb2.StatusSuccess
	}
	if _, _, ok := o.share.dfsCovered(ctx, strings.Split(name, "/")); ok {
		return smb2.StatusPathNotCovered
	}
	return smb2.StatusSuccess
}

// dfsShareFlags are the TREE_CONNECT ShareFlags and Capabilities of a DFS
// root (MS-SMB2 3.3.5.7).
func (s *Server) dfsShareFlags(sh *shareState) (flags, caps uint32) {
	if !sh.isDFSRoot(s) {
		return 0, 0
	}
	return smb2.ShareFlagDFS | smb2.ShareFlagDFSRoot, smb2.ShareCapDFS
}

// dfsDirEntry lists a link of a DFS root as Windows and Samba do: a
// directory that is a reparse point with the DFS tag, empty.
func (sh *shareState) dfsDirEntry(ctx context.Context, s *Server, name string, fi fs.FileInfo, e *fscc.DirEntry) {
	if !sh.isDFSRoot(s) || sh.cfg.DFSLinks == nil && fi.Mode()&fs.ModeSymlink == 0 {
		return
	}
	if _, ok := sh.dfsLink(ctx, name); !ok {
		return
	}
	e.FileAttributes = e.FileAttributes&^(fscc.FileAttributeNormal|fscc.FileAttributeArchive) |
		fscc.FileAttributeDirectory | fscc.FileAttributeReparsePoint
	e.ReparseTag = ioReparseTagDFS
	e.EndOfFile, e.AllocationSize = 0, 0
}

// dfsReferral answers FSCTL_DFS_GET_REFERRALS and _EX, on IPC$ or any
// tree (MS-SMB2 3.3.5.15.2, MS-DFSC 3.2.5): a root referral for
// `\server\share`, a link referral for a path through a link, and
// STATUS_NOT_FOUND for anything else (domain and DC referrals too: a
// standalone server has no domain namespace).
func (s *Server) dfsReferral(ctx context.Context, req *Request, r *smb2.IoctlRequest, reply func([]byte, smb2.Status) *Response) *Response {
	if s.DisableDFS {
		return statusResponse(smb2.StatusFsDriverRequired)
	}
	var q smb2.DFSReferralRequest
	var err error
	if r.CtlCode == smb2.FsctlDfsGetReferralsEx {
		err = q.DecodeEx(r.Input)
	} else {
		err = q.Decode(r.Input)
	}
	if err != nil || q.MaxReferralLevel == 0 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	resp, st := s.referral(ctx, req.Session, &q)
	if st != smb2.StatusSuccess {
		return statusResponse(st)
	}
	out := make([]byte, resp.Size())
	resp.Encode(out)
	if len(out) > int(r.MaxOutputResponse) {
		// MS-DFSC 3.2.5.1, MS-SMB2 3.3.5.15.2: what fits, and
		// STATUS_BUFFER_OVERFLOW, so the client asks again with more.
		if r.MaxOutputResponse < 8 {
			return statusResponse(smb2.StatusBufferTooSmall)
		}
		return reply(out[:r.MaxOutputResponse], smb2.StatusBufferOverflow)
	}
	return reply(out, smb2.StatusSuccess)
}

// errNotDFS is why a referral request names nothing of this server.
var errNotDFS = errors.New("not a DFS name")

// referral resolves a referral request's path (MS-DFSC 3.2.5.5): the
// root's targets for `\server\share` (itself, as the client named the
// server), a link's for a path through it. PathConsumed counts the UTF-16
// bytes of the request's own prefix that names the root or link.
func (s *Server) referral(ctx context.Context, sess *Session, q *smb2.DFSReferralRequest) (*smb2.DFSReferralResponse, smb2.Status) {
	d, err := splitDFSPath(q.FileName)
	if err != nil {
		return nil, smb2.StatusNotFound
	}
	sh := s.lookupShare(ctx, sess, d.share)
	if sh == nil || !sh.isDFSRoot(s) || sh.cfg.Unavailable {
		return nil, smb2.StatusNotFound
	}
	resp := &smb2.DFSReferralResponse{Version: min(q.MaxReferralLevel, 4)}
	if len(d.elems) == 0 {
		resp.PathConsumed = uint16(utf16le.EncodedLen(d.prefix(0)))
		resp.HeaderFlags = smb2.ReferralServers | smb2.StorageServers
		resp.Referrals = []smb2.DFSReferral{{
			ServerType: smb2.DFSServerTypeRoot,
			TTL:        uint32(dfsRootTTL / time.Second),
			DFSPath:    d.name(0),
			Target:     `\` + d.server + `\` + sh.cfg.Name,
			Flags:      smb2.DFSTargetSetBoundary,
		}}
		return resp, smb2.StatusSuccess
	}
	link, n, ok := sh.dfsCovered(ctx, d.elems)
	if !ok {
		return nil, smb2.StatusNotFound
	}
	ttl := link.TTL
	if ttl <= 0 {
		ttl = dfsLinkTTL
	}
	resp.PathConsumed = uint16(utf16le.EncodedLen(d.prefix(n)))
	resp.HeaderFlags = smb2.StorageServers
	for i, t := range link.Targets {
		t = dfsTarget(t)
		if t == "" {
			continue
		}
		e := smb2.DFSReferral{ServerType: smb2.DFSServerTypeLink, TTL: uint32(ttl / time.Second),
			DFSPath: d.name(n), Target: t}
		if i == 0 {
			e.Flags = smb2.DFSTargetSetBoundary
		}
		resp.Referrals = append(resp.Referrals, e)
	}
	if len(resp.Referrals) == 0 || resp.Size() > 0xFFFF {
		return nil, smb2.StatusNotFound
	}
	return resp, smb2.StatusSuccess
}

// dfsPath is a referral request's path split: `\server\share\e1\e2...`.
type dfsPath struct {
	orig          string
	lead          int // leading backslashes (1 or 2)
	server, share string
	elems         []string
	ends          []int // in orig: the end of the share's name, then of each element
}

// prefix is the request's own spelling of its server, share and first n
// elements: what PathConsumed counts.
func (d *dfsPath) prefix(n int) string { return d.orig[:d.ends[n]] }

// name is prefix(n) with one leading backslash, the form of a DFS path in
// a referral entry.
func (d *dfsPath) name(n int) string { return `\` + d.orig[d.lead:d.ends[n]] }

// splitDFSPath splits `\server\share[\path]` (one or two leading
// backslashes; a trailing one allowed). Empty, "." and ".." elements make
// it no DFS name.
func splitDFSPath(p string) (*dfsPath, error) {
	d := &dfsPath{orig: p}
	i := 0
	for i < len(p) && i < 2 && p[i] == '\\' {
		i++
	}
	if i == 0 {
		return nil, errNotDFS
	}
	d.lead = i
	var parts []string
	for i <= len(p) {
		j := strings.IndexByte(p[i:], '\\')
		if j < 0 {
			j = len(p) - i
		}
		e := p[i : i+j]
		if e == "" && i+j == len(p) && len(parts) >= 2 {
			break // a trailing backslash
		}
		if e == "" || e == "." || e == ".." || strings.ContainsAny(e, "/*?\"<>|") {
			return nil, errNotDFS
		}
		parts = append(parts, e)
		if len(parts) >= 2 {
			d.ends = append(d.ends, i+j)
		}
		i += j + 1
	}
	if len(parts) < 2 {
		return nil, errNotDFS
	}
	d.server, d.share, d.elems = parts[0], parts[1], parts[2:]
	return d, nil
}
