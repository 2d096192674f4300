package rpc

import (
	"context"
	"strings"
)

// Win32 error codes returned as WERROR (MS-ERREF 2.2).
const (
	errSuccess      = 0
	errInvalidLevel = 124
	errNetNameDel   = 2310 // NERR_NetNameNotFound
)

func (s *Server) serverName() string {
	if s.ServerName != "" {
		return s.ServerName
	}
	return "CIFSD"
}

func (s *Server) shares(ctx context.Context) []ShareInfo {
	if s.Shares == nil {
		return nil
	}
	return s.Shares(ctx)
}

// srvsvc answers the srvsvc interface (MS-SRVS 3.1.4).
func (s *Server) srvsvc(ctx context.Context, opnum uint16, stub []byte) ([]byte, uint32) {
	r := &reader{b: stub}
	switch opnum {
	case 15: // NetrShareEnum (3.1.4.8)
		r.uniqueString() // ServerName
		level := r.u32()
		r.u32()           // union discriminant
		if r.u32() != 0 { // container pointer
			r.u32() // EntriesRead
			r.u32() // Buffer pointer (null on input)
		}
		r.u32() // PreferedMaximumLength
		var resume uint32
		hasResume := r.u32() != 0
		if hasResume {
			resume = r.u32()
		}
		if r.err != nil {
			return nil, ncaProtoError
		}
		return s.shareEnum(ctx, level, hasResume, resume), 0
	case 16: // NetrShareGetInfo (3.1.4.10)
		r.uniqueString()
		name := r.stringBody()
		level := r.u32()
		if r.err != nil {
			return nil, ncaProtoError
		}
		return s.shareGetInfo(ctx, name, level), 0
	case 21: // NetrServerGetInfo (3.1.4.17)
		r.uniqueString()
		level := r.u32()
		if r.err != nil {
			return nil, ncaProtoError
		}
		return s.serverGetInfo(level), 0
	}
	return nil, ncaOpRangeError
}

// shareEntry writes the fixed part of SHARE_INFO_<level> (MS-SRVS 2.2.4.22,
// 2.2.4.23, 2.2.4.24) and returns its deferred strings' writer.
func shareEntry(w *writer, level uint32, sh ShareInfo) func() {
	switch level {
	case 0:
		w.ref()
		return func() { w.str(sh.Name) }
	case 1:
		w.ref()
		w.u32(sh.Type)
		w.ref()
		return func() { w.str(sh.Name); w.str(sh.Comment) }
	default: // 2
		w.ref()
		w.u32(sh.Type)
		w.ref()
		w.u32(0)          // permissions
		w.u32(0xFFFFFFFF) // max uses: unlimited
		w.u32(0)          // current uses
		w.ref()
		w.u32(0) // no password
		return func() {
			w.str(sh.Name)
			w.str(sh.Comment)
			w.str(sharePath(sh))
		}
	}
}

func sharePath(sh ShareInfo) string {
	if sh.Path != "" {
		return sh.Path
	}
	return `C:\` + sh.Name
}

func (s *Server) shareEnum(ctx context.Context, level uint32, hasResume bool, resume uint32) []byte {
	w := &writer{}
	if level != 0 && level != 1 && level != 2 {
		w.u32(level)
		w.u32(level)
		w.u32(0)
		w.u32(0) // TotalEntries
		w.u32(0) // ResumeHandle
		w.u32(errInvalidLevel)
		return w.b
	}
	all := s.shares(ctx)
	list := all
	if hasResume && int(resume) < len(list) {
		list = list[resume:]
	} else if hasResume && resume != 0 {
		list = nil
	}
	w.u32(level) // Level
	w.u32(level) // union discriminant
	w.ref()      // container
	w.u32(uint32(len(list)))
	if w.ptr(len(list) > 0) {
		w.u32(uint32(len(list))) // conformant array max count
		var deferred []func()
		for _, sh := range list {
			deferred = append(deferred, shareEntry(w, level, sh))
		}
		for _, d := range deferred {
			d()
		}
	}
	w.u32(uint32(len(all))) // TotalEntries
	if hasResume {
		w.ref()
		w.u32(0)
	} else {
		w.u32(0)
	}
	w.u32(errSuccess)
	return w.b
}

func (s *Server) shareGetInfo(ctx context.Context, name string, level uint32) []byte {
	w := &writer{}
	var found *ShareInfo
	for _, sh := range s.shares(ctx) {
		if strings.EqualFold(sh.Name, name) {
			found = &sh
			break
		}
	}
	switch {
	case found == nil:
		w.u32(level)
		w.u32(0)
		w.u32(errNetNameDel)
	case level <= 2:
		w.u32(level)
		w.ref()
		shareEntry(w, level, *found)()
		w.u32(errSuccess)
	case level == 1005: // SHARE_INFO_1005: flags
		w.u32(level)
		w.ref()
		w.u32(0)
		w.u32(errSuccess)
	case level == 501: // SHARE_INFO_501
		w.u32(level)
		w.ref()
		w.ref()
		w.u32(found.Type)
		w.ref()
		w.u32(0)
		w.str(found.Name)
		w.str(found.Comment)
		w.u32(errSuccess)
	default:
		w.u32(level)
		w.u32(0)
		w.u32(errInvalidLevel)
	}
	return w.b
}

// SV_TYPE flags (MS-SRVS 2.2.2.7).
const (
	svTypeWorkstation = 0x00000001
	svTypeServer      = 0x00000002
	svTypeNT          = 0x00001000
	svTypeServerNT    = 0x00008000
)

func (s *Server) serverGetInfo(level uint32) []byte {
	w := &writer{}
	switch level {
	case 100, 101, 102:
		w.u32(level)
		w.ref()
		w.u32(500) // PLATFORM_ID_NT
		w.ref()
		if level == 100 {
			w.str(s.serverName())
			break
		}
		w.u32(10) // version major
		w.u32(0)  // version minor
		w.u32(svTypeWorkstation | svTypeServer | svTypeNT | svTypeServerNT)
		w.ref()
		if level == 102 {
			w.u32(0)          // users
			w.u32(0xFFFFFFFF) // disc
			w.u32(0)          // hidden
			w.u32(1000)       // announce
			w.u32(100)        // anndelta
			w.u32(0)          // licenses
			w.ref()           // userpath
		}
		w.str(s.serverName())
		w.str(s.Comment)
		if level == 102 {
			w.str(`C:\`)
		}
	default:
		w.u32(level)
		w.u32(0)
		w.u32(errInvalidLevel)
		return w.b
	}
	w.u32(errSuccess)
	return w.b
}

// wkssvc answers NetrWkstaGetInfo (MS-WKST 3.2.4.1) level 100.
func (s *Server) wkssvc(ctx context.Context, opnum uint16, stub []byte) ([]byte, uint32) {
	if opnum != 0 {
		return nil, ncaOpRangeError
	}
	r := &reader{b: stub}
	r.uniqueString()
	level := r.u32()
	if r.err != nil {
		return nil, ncaProtoError
	}
	w := &writer{}
	if level != 100 {
		w.u32(level)
		w.u32(0)
		w.u32(errInvalidLevel)
		return w.b, 0
	}
	domain := s.Domain
	if domain == "" {
		domain = "WORKGROUP"
	}
	w.u32(level)
	w.ref()
	w.u32(500)
	w.ref()
	w.ref()
	w.u32(10)
	w.u32(0)
	w.str(s.serverName())
	w.str(domain)
	w.u32(errSuccess)
	return w.b, 0
}
