package smb

import (
	"encoding/binary"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/smb2"
)

// What a Layer may learn about a request beyond its header and bytes: the
// user, the open it acts on, and its final response.

// Identity returns the user of the request's session, once the session
// layer has found it; false before, and for NEGOTIATE and SESSION_SETUP.
func (r *Request) Identity() (auth.Identity, bool) {
	if r.Session == nil {
		return auth.Identity{}, false
	}
	return r.Session.Identity(), true
}

// OpenInfo describes an open file, directory or named pipe as it is when
// asked (see Request.Open). It is a copy: changing it changes nothing.
type OpenInfo struct {
	// FileID is the open's SMB2 FileId.
	FileID smb2.FileID
	// Path is the open's name within its share, with forward slashes
	// ("." for the share root); a pipe's name on IPC$.
	Path string
	// Stream is the named stream opened, "" for a file's data.
	Stream string
	// IsDir reports whether the open is a directory.
	IsDir bool
	// GrantedAccess is the access mask granted at CREATE (MS-SMB2
	// 2.2.13.1), generic rights mapped.
	GrantedAccess uint32
	// Caching is the caching the open holds now, as lease state bits
	// (smb2.LeaseRead, LeaseHandle, LeaseWrite): its lease's state, or
	// what its oplock amounts to.
	Caching uint32
	// Leased reports whether the open holds a lease (not an oplock).
	Leased bool
	// Durable reports whether the open is durable.
	Durable bool
}

// fileIDOffset is where a request body of cmd carries its FileId
// (MS-SMB2 2.2.14 - 2.2.39), or -1.
func fileIDOffset(cmd smb2.Command) int {
	switch cmd {
	case smb2.Read, smb2.Write, smb2.SetInfo:
		return 16
	case smb2.QueryInfo:
		return 24
	case smb2.Close, smb2.Flush, smb2.Lock, smb2.Ioctl, smb2.QueryDirectory,
		smb2.ChangeNotify, smb2.OplockBreak:
		return 8
	}
	return -1
}

// Open returns the open the request acts on: the one its FileId names
// (READ, WRITE, CLOSE, QUERY_INFO ...; in a related compound, the one the
// chain uses), or for a CREATE, once the handler below has returned, the
// open it made. It is false when there is none, or the session has no
// such open (closed already).
func (r *Request) Open() (OpenInfo, bool) {
	if r.Session == nil {
		return OpenInfo{}, false
	}
	var id smb2.FileID
	off := fileIDOffset(r.Header.Command)
	switch {
	case r.Header.Command == smb2.Create:
		if r.compound == nil || !r.compound.hasFileID {
			return OpenInfo{}, false
		}
		id = r.compound.fileID
	case off < 0 || len(r.Msg) < smb2.HeaderSize+off+16:
		return OpenInfo{}, false
	default:
		b := r.Msg[smb2.HeaderSize+off:]
		id = smb2.FileID{Persistent: binary.LittleEndian.Uint64(b), Volatile: binary.LittleEndian.Uint64(b[8:])}
		if id.Persistent == ^uint64(0) && id.Volatile == ^uint64(0) {
			if r.compound == nil || !r.compound.hasFileID {
				return OpenInfo{}, false
			}
			id = r.compound.fileID
		}
	}
	o := r.Session.lookupOpen(id)
	if o == nil {
		return OpenInfo{}, false
	}
	return o.info(), true
}

// info describes o as it is now.
func (o *Open) info() OpenInfo {
	o.mu.Lock()
	in := OpenInfo{FileID: o.id, Path: o.name, Stream: o.stream, IsDir: o.isDir, GrantedAccess: o.access}
	o.mu.Unlock()
	if sh := o.share; sh != nil && o.node != nil {
		sh.mu.Lock()
		in.Caching, in.Leased, in.Durable = sh.store.CachingLocked(o), o.lease != nil, o.durable != nil
		sh.mu.Unlock()
	}
	return in
}

// OnFinal registers f to see the request's final response, once: the
// response the handler chain returns or, for a request that went async
// (STATUS_PENDING: a CREATE waiting for a break to be acknowledged, a
// blocking LOCK, CHANGE_NOTIFY), the response that completes it later. A
// Layer that counts statuses or times requests uses it. f runs on the
// goroutine that sends the response, before it is sent: keep it short,
// and do not change the response.
func (r *Request) OnFinal(f func(*Response)) { r.finals = append(r.finals, f) }

// runFinals calls the functions OnFinal registered with the final
// response.
func (r *Request) runFinals(resp *Response) {
	for _, f := range r.finals {
		f(resp)
	}
	r.finals = nil
}
