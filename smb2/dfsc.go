package smb2

import (
	"github.com/cifsd/cifsd/internal/utf16le"
)

// DFS (MS-DFSC) referral messages, carried by FSCTL_DFS_GET_REFERRALS and
// FSCTL_DFS_GET_REFERRALS_EX (MS-SMB2 3.3.5.15.2), and the DFS bits of
// NEGOTIATE and TREE_CONNECT. The decoder takes the IOCTL input buffer
// alone and never trusts a length in it.

// DFS flags of TREE_CONNECT (MS-SMB2 2.2.10) and statuses of DFS.
const (
	// ShareFlagDFS marks a share in a DFS namespace (SMB2_SHAREFLAG_DFS).
	ShareFlagDFS uint32 = 0x00000001
	// ShareFlagDFSRoot marks a DFS root (SMB2_SHAREFLAG_DFS_ROOT).
	ShareFlagDFSRoot uint32 = 0x00000002
	// ShareCapDFS is SMB2_SHARE_CAP_DFS, the share is in a DFS namespace.
	ShareCapDFS uint32 = 0x00000008

	// StatusPathNotCovered answers a path that crosses a DFS link: the
	// client asks for a referral and goes to the link's target.
	StatusPathNotCovered Status = 0xC0000257
	// StatusFsDriverRequired answers a DFS referral request to a server
	// that is not DFS capable (MS-SMB2 3.3.5.15.2).
	StatusFsDriverRequired Status = 0xC000019C
)

func init() {
	statusNames[StatusPathNotCovered] = "STATUS_PATH_NOT_COVERED"
	statusNames[StatusFsDriverRequired] = "STATUS_FS_DRIVER_REQUIRED"
}

// DFS referral header flags (MS-DFSC 2.2.4) and entry values (2.2.5).
const (
	// ReferralServers (R): the targets answer referral requests (a root).
	ReferralServers uint32 = 0x00000001
	// StorageServers (S): the targets hold the files.
	StorageServers uint32 = 0x00000002
	// TargetFailback (T): clients fail back to a preferred target.
	TargetFailback uint32 = 0x00000004

	// DFSServerTypeLink is ServerType 0, non-root targets.
	DFSServerTypeLink uint16 = 0x0000
	// DFSServerTypeRoot is ServerType 1, root targets.
	DFSServerTypeRoot uint16 = 0x0001

	// DFSTargetSetBoundary marks the first target of a target set in a
	// version 4 entry (MS-DFSC 2.2.5.4).
	DFSTargetSetBoundary uint16 = 0x0004

	// dfsRequestSiteName is REQ_GET_DFS_REFERRAL_EX's SiteName flag.
	dfsRequestSiteName uint16 = 0x0001
)

// maxDFSName bounds a referral request's file name, in UTF-16 bytes: the
// longest Windows path (32767 characters), so PathConsumed fits 16 bits.
const maxDFSName = 0xFFFE

// DFSReferralRequest is REQ_GET_DFS_REFERRAL (MS-DFSC 2.2.2) or
// REQ_GET_DFS_REFERRAL_EX (2.2.3).
type DFSReferralRequest struct {
	// MaxReferralLevel is the highest referral version the client reads.
	MaxReferralLevel uint16
	// FileName is the path to resolve: `\server\share[\path]`.
	FileName string
	// SiteName is the client's site (the _EX form only; standalone
	// namespaces ignore it).
	SiteName string
}

// Decode reads REQ_GET_DFS_REFERRAL: MaxReferralLevel and a
// null-terminated UTF-16 name filling the rest of the buffer.
func (r *DFSReferralRequest) Decode(in []byte) error {
	if len(in) < 2 {
		return malformed("dfs referral request")
	}
	r.MaxReferralLevel = le.Uint16(in)
	name, err := nulString(in[2:])
	if err != nil {
		return err
	}
	r.FileName, r.SiteName = name, ""
	return nil
}

// DecodeEx reads REQ_GET_DFS_REFERRAL_EX: MaxReferralLevel, RequestFlags,
// RequestDataLength and RequestData (2.2.3.1): the file name and, when
// the SiteName flag is set, the site name, each with a 16-bit byte
// length.
func (r *DFSReferralRequest) DecodeEx(in []byte) error {
	if len(in) < 8 {
		return malformed("dfs referral request ex")
	}
	r.MaxReferralLevel = le.Uint16(in)
	flags := le.Uint16(in[2:])
	n := le.Uint32(in[4:])
	if uint64(n) > uint64(len(in)-8) {
		return malformed("dfs referral request ex: data length")
	}
	data := in[8 : 8+n]
	name, rest, err := counted(data)
	if err != nil {
		return err
	}
	r.FileName, r.SiteName = name, ""
	if flags&dfsRequestSiteName != 0 {
		if r.SiteName, _, err = counted(rest); err != nil {
			return err
		}
	}
	return nil
}

// counted reads a 16-bit byte length and that many bytes of UTF-16 (a
// trailing null, if counted, is dropped).
func counted(b []byte) (string, []byte, error) {
	if len(b) < 2 {
		return "", nil, malformed("dfs referral request ex: name length")
	}
	n := int(le.Uint16(b))
	if n > len(b)-2 || n%2 != 0 {
		return "", nil, malformed("dfs referral request ex: name")
	}
	s := b[2 : 2+n]
	for len(s) >= 2 && s[len(s)-2] == 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-2]
	}
	return utf16le.Decode(s), b[2+n:], nil
}

// nulString reads a null-terminated UTF-16 string at the start of b; a
// string without its terminator, or longer than maxDFSName, is malformed.
func nulString(b []byte) (string, error) {
	for i := 0; i+1 < len(b) && i < maxDFSName; i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			return utf16le.Decode(b[:i]), nil
		}
	}
	return "", malformed("dfs referral request: unterminated name")
}

// DFSReferral is one referral entry: a target of the root or link the
// response names.
type DFSReferral struct {
	// ServerType is DFSServerTypeRoot or DFSServerTypeLink.
	ServerType uint16
	// TTL is how long, in seconds, the client may cache the referral
	// (versions 2 to 4).
	TTL uint32
	// DFSPath is the DFS path of the root or link, `\server\share[\link]`
	// (versions 2 to 4; DFSAlternatePath is the same path).
	DFSPath string
	// Target is the target's path, `\server\share[\path]` (the ShareName
	// of version 1, the NetworkAddress of 2 to 4).
	Target string
	// Flags are the ReferralEntryFlags (DFSTargetSetBoundary, version 4).
	Flags uint16
}

// DFSReferralResponse is RESP_GET_DFS_REFERRAL (MS-DFSC 2.2.4) with its
// entries of one version, 1 to 4 (2.2.5.1 to 2.2.5.4).
type DFSReferralResponse struct {
	// PathConsumed is the number of bytes (UTF-16) of the request's path
	// the response resolves.
	PathConsumed uint16
	// HeaderFlags are ReferralServers, StorageServers, TargetFailback.
	HeaderFlags uint32
	// Version is the entries' version, 1 to 4.
	Version uint16
	// Referrals are the entries, one per target.
	Referrals []DFSReferral
}

// Sizes of the fixed part of a referral entry per version: version 1 is
// followed by its ShareName inline; versions 2 to 4 point at strings
// placed after every entry.
const (
	dfsHeaderSize = 8
	dfsV1Size     = 8
	dfsV2Size     = 22
	dfsV34Size    = 34
)

func (r *DFSReferralResponse) entrySize() int {
	switch r.Version {
	case 2:
		return dfsV2Size
	case 3, 4:
		return dfsV34Size
	}
	return dfsV1Size
}

// Size is the encoded length.
func (r *DFSReferralResponse) Size() int {
	n := dfsHeaderSize
	for _, e := range r.Referrals {
		n += r.entrySize() + utf16le.EncodedLen(e.Target) + 2
		if r.Version >= 2 {
			n += 2 * (utf16le.EncodedLen(e.DFSPath) + 2)
		}
	}
	return n
}

// Encode writes the response into b, which holds Size bytes. In versions
// 2 to 4 each entry's offsets count from the entry's start and point at
// strings after the last entry: its DFSPath, DFSAlternatePath and
// NetworkAddress, null-terminated. Version 1 entries hold their ShareName
// inline, Size counting it.
func (r *DFSReferralResponse) Encode(b []byte) {
	le.PutUint16(b, r.PathConsumed)
	le.PutUint16(b[2:], uint16(len(r.Referrals)))
	le.PutUint32(b[4:], r.HeaderFlags)
	off := dfsHeaderSize
	if r.Version < 2 {
		for _, e := range r.Referrals {
			n := dfsV1Size + utf16le.EncodedLen(e.Target) + 2
			le.PutUint16(b[off:], 1)
			le.PutUint16(b[off+2:], uint16(n))
			le.PutUint16(b[off+4:], e.ServerType)
			le.PutUint16(b[off+6:], 0)
			putNul(b[off+dfsV1Size:], e.Target)
			off += n
		}
		return
	}
	size := r.entrySize()
	str := off + size*len(r.Referrals)
	for _, e := range r.Referrals {
		le.PutUint16(b[off:], r.Version)
		le.PutUint16(b[off+2:], uint16(size))
		le.PutUint16(b[off+4:], e.ServerType)
		flags := uint16(0)
		if r.Version == 4 {
			flags = e.Flags & DFSTargetSetBoundary
		}
		le.PutUint16(b[off+6:], flags)
		ttl := off + 8
		if r.Version == 2 {
			le.PutUint32(b[off+8:], 0) // Proximity
			ttl = off + 12
		}
		le.PutUint32(b[ttl:], e.TTL)
		offs := ttl + 4
		for i, s := range [3]string{e.DFSPath, e.DFSPath, e.Target} {
			le.PutUint16(b[offs+2*i:], uint16(str-off))
			str += putNul(b[str:], s)
		}
		if r.Version >= 3 {
			clear(b[offs+6 : offs+22]) // ServiceSiteGuid
		}
		off += size
	}
}

// putNul writes s and a null terminator, returning the bytes written.
func putNul(b []byte, s string) int {
	n := utf16le.Put(b, s)
	b[n], b[n+1] = 0, 0
	return n + 2
}

// Decode reads a referral response (the client side: tests and tools). It
// never trusts an offset or size.
func (r *DFSReferralResponse) Decode(b []byte) error {
	if len(b) < dfsHeaderSize {
		return malformed("dfs referral response")
	}
	r.PathConsumed = le.Uint16(b)
	n := int(le.Uint16(b[2:]))
	r.HeaderFlags = le.Uint32(b[4:])
	r.Referrals, r.Version = nil, 0
	off := dfsHeaderSize
	for i := 0; i < n; i++ {
		if off+8 > len(b) {
			return malformed("dfs referral entry")
		}
		v, size := le.Uint16(b[off:]), int(le.Uint16(b[off+2:]))
		if size < 8 || off+size > len(b) {
			return malformed("dfs referral entry size")
		}
		e := DFSReferral{ServerType: le.Uint16(b[off+4:]), Flags: le.Uint16(b[off+6:])}
		var err error
		switch v {
		case 1:
			if e.Target, err = nulString(b[off+8 : off+size]); err != nil {
				return err
			}
		case 2, 3, 4:
			ttl, offs := off+8, off+12
			if v == 2 {
				ttl, offs = off+12, off+16
			}
			if offs+6 > off+size {
				return malformed("dfs referral entry size")
			}
			e.TTL = le.Uint32(b[ttl:])
			if e.DFSPath, err = nulString(at(b, off, le.Uint16(b[offs:]))); err != nil {
				return err
			}
			if e.Target, err = nulString(at(b, off, le.Uint16(b[offs+4:]))); err != nil {
				return err
			}
		default:
			return malformed("dfs referral version")
		}
		if r.Version == 0 {
			r.Version = v
		}
		r.Referrals = append(r.Referrals, e)
		off += size
	}
	return nil
}

// at is b from base+off, empty when that is past its end.
func at(b []byte, base int, off uint16) []byte {
	if p := base + int(off); p < len(b) {
		return b[p:]
	}
	return nil
}
