package rpc

import (
	"context"
	"strings"
	"time"
)

// srvsvc is the server service (MS-SRVS): shares, sessions, tree
// connects, open files and server information, from the server's live
// state.
var srvsvcInterface = &Interface{
	Name:  "srvsvc",
	uuid:  mustUUID("4b324fc8-1670-01d3-1278-5a47bf6ee188"),
	major: 3,
	ops: map[uint16]opFunc{
		0:  func(c *call) ([]byte, uint32) { return c.emptyEnum(false, 0, 1) }, // NetrCharDevEnum
		3:  func(c *call) ([]byte, uint32) { return c.emptyEnum(true, 0, 1) },  // NetrCharDevQEnum
		8:  (*call).netConnectionEnum,
		9:  (*call).netFileEnum,
		11: (*call).netFileClose,
		12: (*call).netSessionEnum,
		13: (*call).netSessionDel,
		15: func(c *call) ([]byte, uint32) { return c.netShareEnum(false) }, // NetrShareEnum, what NetShareEnumAll calls
		16: (*call).netShareGetInfo,
		20: (*call).netShareCheck,
		21: (*call).netServerGetInfo,
		23: (*call).netDiskEnum,
		26: func(c *call) ([]byte, uint32) { return c.emptyEnum(false, 0, 1, 2, 3) }, // NetrServerTransportEnum
		28: (*call).netRemoteTOD,
		36: func(c *call) ([]byte, uint32) { return c.netShareEnum(true) }, // NetrShareEnumSticky
	},
}

// Win32 error codes returned as WERROR (MS-ERREF 2.2).
const (
	errSuccess        = 0
	errFileNotFound   = 2
	errAccessDenied   = 5
	errInvalidParam   = 87
	errInvalidLevel   = 124
	errMoreData       = 234
	errNoMoreItems    = 259
	errNetNameDel     = 2310 // NERR_NetNameNotFound
	errFileIDNotFound = 2314 // NERR_FileIdNotFound
	errClientNameNF   = 2312 // NERR_ClientNameNotFound
	errUserNotFound   = 2221 // NERR_UserNotFound
)

func (s *Server) shares(ctx context.Context) []ShareInfo {
	if s.Shares == nil {
		return nil
	}
	return s.Shares(ctx)
}

// enumRequest is the common tail of the NetrXxxEnum calls: the level and
// container, the preferred maximum length and the resume handle.
type enumRequest struct {
	level     uint32
	hasResume bool
	resume    uint32
}

func (r *reader) enumStruct() enumRequest {
	var e enumRequest
	e.level = r.u32()
	r.u32()           // union discriminant
	if r.u32() != 0 { // container
		r.u32()           // EntriesRead
		if r.u32() != 0 { // an input array: never sent by clients
			r.err = errNDR
		}
	}
	r.u32() // PreferedMaximumLength: the whole list is always returned
	if r.u32() != 0 {
		e.hasResume = true
		e.resume = r.u32()
	}
	return e
}

// writeEnum writes an enumeration response: the level, the container with
// n entries from the resume handle on (entry writes each fixed part and
// returns its deferred part), the total, the resume handle and status.
func (w *writer) writeEnum(e enumRequest, total int, entry func(i int) func()) []byte {
	start := 0
	if e.hasResume {
		start = int(e.resume)
	}
	if start > total {
		start = total
	}
	n := total - start
	w.u32(e.level)
	w.u32(e.level)
	w.ref() // container
	w.u32(uint32(n))
	if w.ptr(n > 0) {
		w.u32(uint32(n))
		deferred := make([]func(), 0, n)
		for i := start; i < total; i++ {
			deferred = append(deferred, entry(i))
		}
		for _, d := range deferred {
			d()
		}
	}
	w.u32(uint32(total))
	if e.hasResume {
		w.ref()
		w.u32(0)
	} else {
		w.u32(0)
	}
	return w.status(errSuccess)
}

// enumError answers an enumeration with an error and no entries: a null
// container, or for a level no srvsvc union has, the empty default arm.
func (w *writer) enumError(e enumRequest, werr uint32) []byte {
	w.u32(e.level)
	w.u32(e.level)
	switch e.level {
	case 0, 1, 2, 3, 10, 501, 502, 503:
		w.u32(0)
	}
	w.u32(0) // TotalEntries
	if e.hasResume {
		w.ref()
		w.u32(e.resume)
	} else {
		w.u32(0)
	}
	return w.status(werr)
}

// strPtr writes a [string] wchar_t* that is null for "" when nullEmpty.
func (w *writer) strDeferred(s string) func() {
	w.ref()
	return func() { w.str(s) }
}

// shareEntry writes the fixed part of SHARE_INFO_<level> (MS-SRVS 2.2.4.22
// to 2.2.4.26) and returns the writer of its deferred part.
func (c *call) shareEntry(w *writer, level uint32, sh ShareInfo) func() {
	switch level {
	case 0:
		return w.strDeferred(sh.Name)
	case 1:
		w.ref()
		w.u32(sh.Type)
		w.ref()
		return func() { w.str(sh.Name); w.str(sh.Comment) }
	case 501:
		w.ref()
		w.u32(sh.Type)
		w.ref()
		w.u32(sh.Flags)
		return func() { w.str(sh.Name); w.str(sh.Comment) }
	default: // 2, 502
		w.ref()
		w.u32(sh.Type)
		w.ref()
		w.u32(0)          // permissions: ignored by servers in user-level security
		w.u32(0xFFFFFFFF) // max uses: unlimited
		w.u32(sh.CurrentUses)
		w.ref()
		w.u32(0) // no password
		if level == 502 {
			w.u32(0) // reserved: the descriptor's length
			w.u32(0) // no security descriptor: share-level ACLs are not kept
		}
		return func() {
			w.str(sh.Name)
			w.str(sh.Comment)
			w.str(sharePath(sh))
		}
	}
}

func sharePath(sh ShareInfo) string {
	if sh.Type&^ShareTypeSpecial == ShareTypeIPC {
		return ""
	}
	if sh.Path != "" {
		return sh.Path
	}
	return `C:\` + sh.Name
}

// adminLevel reports whether a share info level shows what MS-SRVS
// 3.1.4.8 and 3.1.4.10 let a server keep from callers without the right
// permissions: the path and use counts. As Samba does, authenticated users
// see them and null sessions do not (the path is the synthetic C:\NAME).
func adminLevel(level uint32) bool { return level == 2 || level == 502 }

// netShareEnum answers NetrShareEnum (MS-SRVS 3.1.4.8) and, sticky,
// NetrShareEnumSticky (3.1.4.9): the configured shares are all sticky;
// the latter has no level 501.
func (c *call) netShareEnum(sticky bool) ([]byte, uint32) {
	r := c.r
	r.uniqueString() // ServerName
	e := r.enumStruct()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	switch e.level {
	case 0, 1, 2, 502:
	case 501:
		if !sticky {
			break
		}
		fallthrough
	default:
		return w.enumError(e, errInvalidLevel), 0
	}
	if (adminLevel(e.level) || e.level == 501) && (c.caller.Anonymous || c.caller.Guest) {
		return w.enumError(e, errAccessDenied), 0
	}
	list := c.s.shares(c.ctx)
	if sticky {
		var st []ShareInfo
		for _, sh := range list {
			if sh.Type&ShareTypeSpecial == 0 {
				st = append(st, sh)
			}
		}
		list = st
	}
	return w.writeEnum(e, len(list), func(i int) func() { return c.shareEntry(w, e.level, list[i]) }), 0
}

// netShareGetInfo answers NetrShareGetInfo (MS-SRVS 3.1.4.10).
func (c *call) netShareGetInfo() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	name := r.stringBody()
	level := r.u32()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	fail := func(werr uint32) []byte {
		w.u32(level)
		switch level {
		case 0, 1, 2, 501, 502, 1004, 1005, 1006, 1501:
			w.u32(0)
		}
		return w.status(werr)
	}
	var found *ShareInfo
	for _, sh := range c.s.shares(c.ctx) {
		if strings.EqualFold(sh.Name, name) {
			found = &sh
			break
		}
	}
	switch level {
	case 0, 1, 2, 501, 502, 1004, 1005, 1006, 1501:
	default:
		return fail(errInvalidLevel), 0
	}
	if found == nil {
		return fail(errNetNameDel), 0
	}
	if (adminLevel(level) || level == 1501) && (c.caller.Anonymous || c.caller.Guest) {
		return fail(errAccessDenied), 0
	}
	w.u32(level)
	w.ref()
	switch level {
	case 1004: // SHARE_INFO_1004: the remark
		w.ref()
		w.str(found.Comment)
	case 1005: // SHARE_INFO_1005: flags
		w.u32(found.Flags)
	case 1006: // SHARE_INFO_1006: max uses
		w.u32(0xFFFFFFFF)
	case 1501: // SHARE_INFO_1501: no descriptor
		w.u32(0)
		w.u32(0)
	default:
		c.shareEntry(w, level, *found)()
	}
	return w.status(errSuccess), 0
}

// SV_TYPE flags (MS-SRVS 2.2.2.7).
const (
	svTypeWorkstation = 0x00000001
	svTypeServer      = 0x00000002
	svTypeNT          = 0x00001000
	svTypeServerNT    = 0x00008000
)

// netServerGetInfo answers NetrServerGetInfo (MS-SRVS 3.1.4.17) at levels
// 100, 101 and 102 (SERVER_INFO_10x, 2.2.4.40-42).
func (c *call) netServerGetInfo() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	level := r.u32()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	switch level {
	case 100, 101, 102:
	default:
		w.u32(level)
		switch level {
		case 100, 101, 102, 502, 503, 599:
			w.u32(0)
		}
		return w.status(errInvalidLevel), 0
	}
	name := c.s.serverName()
	w.u32(level)
	w.ref()
	w.u32(500) // PLATFORM_ID_NT
	w.ref()
	if level == 100 {
		w.str(name)
		return w.status(errSuccess), 0
	}
	w.u32(10) // version major
	w.u32(0)  // version minor
	w.u32(svTypeWorkstation | svTypeServer | svTypeNT | svTypeServerNT)
	w.ref()
	if level == 102 {
		users := 0
		if c.s.State != nil {
			users = len(c.s.State.Sessions(c.ctx))
		}
		w.u32(uint32(users))
		w.u32(0xFFFFFFFF) // disc: sessions are never auto-disconnected
		w.u32(0)          // hidden
		w.u32(1000)       // announce
		w.u32(100)        // anndelta
		w.u32(0)          // licenses
		w.ref()           // userpath
	}
	w.str(name)
	w.str(c.s.Comment)
	if level == 102 {
		w.str(`C:\`)
	}
	return w.status(errSuccess), 0
}

// netRemoteTOD answers NetrRemoteTOD (MS-SRVS 3.1.4.21): the server's
// time of day (TIME_OF_DAY_INFO, 2.2.4.105), in UTC.
func (c *call) netRemoteTOD() ([]byte, uint32) {
	c.r.uniqueString()
	if c.r.err != nil {
		return c.bad()
	}
	now := c.s.now().UTC()
	w := &writer{}
	w.ref()
	w.u32(uint32(now.Unix()))
	w.u32(uint32(now.Sub(processStart).Milliseconds()))
	w.u32(uint32(now.Hour()))
	w.u32(uint32(now.Minute()))
	w.u32(uint32(now.Second()))
	w.u32(uint32(now.Nanosecond() / 10_000_000))
	w.u32(0)   // timezone: minutes from UTC
	w.u32(310) // tinterval: the clock's tick, in 0.0001 s
	w.u32(uint32(now.Day()))
	w.u32(uint32(now.Month()))
	w.u32(uint32(now.Year()))
	w.u32(uint32(now.Weekday()))
	return w.status(errSuccess), 0
}

var processStart = time.Now()

// Session user flags (MS-SRVS 2.2.4.15).
const sessGuest = 0x00000001

func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }

// uncClient is a client address as the session calls report it: "\\addr".
func uncClient(addr string) string {
	return `\\` + addr
}

func matchClient(want, addr string) bool {
	return want == "" || strings.EqualFold(strings.TrimPrefix(want, `\\`), addr)
}

// netSessionEnum answers NetrSessionEnum (MS-SRVS 3.1.4.5). Levels 0 and
// 10 are for any authenticated user; the others, which show what each
// session holds open, for administrators.
func (c *call) netSessionEnum() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	client := r.uniqueString()
	user := r.uniqueString()
	e := r.enumStruct()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	switch e.level {
	case 0, 10:
	case 1, 2, 502:
		if !c.caller.Admin {
			return w.enumError(e, errAccessDenied), 0
		}
	default:
		return w.enumError(e, errInvalidLevel), 0
	}
	if c.caller.Anonymous {
		return w.enumError(e, errAccessDenied), 0
	}
	var list []SessionInfo
	if c.s.State != nil {
		for _, si := range c.s.State.Sessions(c.ctx) {
			if matchClient(client, si.Client) && (user == "" || strings.EqualFold(user, si.User)) {
				list = append(list, si)
			}
		}
	}
	if len(list) == 0 && client != "" {
		return w.enumError(e, errClientNameNF), 0
	}
	if len(list) == 0 && user != "" {
		return w.enumError(e, errUserNotFound), 0
	}
	return w.writeEnum(e, len(list), func(i int) func() {
		si := list[i]
		var flags uint32
		if si.Guest {
			flags = sessGuest
		}
		switch e.level {
		case 0:
			return w.strDeferred(uncClient(si.Client))
		case 10:
			w.ref()
			w.ref()
			w.u32(seconds(si.Time))
			w.u32(seconds(si.Idle))
			return func() { w.str(uncClient(si.Client)); w.str(si.User) }
		}
		w.ref()
		w.ref()
		w.u32(si.Opens)
		w.u32(seconds(si.Time))
		w.u32(seconds(si.Idle))
		w.u32(flags)
		if e.level == 1 {
			return func() { w.str(uncClient(si.Client)); w.str(si.User) }
		}
		w.ref() // client type name
		if e.level == 2 {
			return func() { w.str(uncClient(si.Client)); w.str(si.User); w.str("") }
		}
		w.ref() // transport
		return func() { w.str(uncClient(si.Client)); w.str(si.User); w.str(""); w.str(si.Transport) }
	}), 0
}

// netSessionDel answers NetrSessionDel (MS-SRVS 3.1.4.6): administrators
// only.
func (c *call) netSessionDel() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	client := r.uniqueString()
	user := r.uniqueString()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if !c.caller.Admin {
		return w.status(errAccessDenied), 0
	}
	if client == "" && user == "" {
		return w.status(errInvalidParam), 0
	}
	if c.s.State == nil || c.s.State.CloseSessions(c.ctx, strings.TrimPrefix(client, `\\`), user) == 0 {
		if client != "" {
			return w.status(errClientNameNF), 0
		}
		return w.status(errUserNotFound), 0
	}
	return w.status(errSuccess), 0
}

// netFileEnum answers NetrFileEnum (MS-SRVS 3.1.4.16) at levels 2 and 3
// (FILE_INFO_2 and _3, 2.2.4.6-7): administrators only.
func (c *call) netFileEnum() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	base := r.uniqueString()
	user := r.uniqueString()
	e := r.enumStruct()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if e.level != 2 && e.level != 3 {
		return w.enumError(e, errInvalidLevel), 0
	}
	if !c.caller.Admin {
		return w.enumError(e, errAccessDenied), 0
	}
	var list []FileInfo
	if c.s.State != nil {
		for _, f := range c.s.State.Files(c.ctx) {
			if user != "" && !strings.EqualFold(user, f.User) {
				continue
			}
			if base != "" && !strings.HasPrefix(strings.ToLower(f.Path), strings.ToLower(base)) {
				continue
			}
			list = append(list, f)
		}
	}
	return w.writeEnum(e, len(list), func(i int) func() {
		f := list[i]
		w.u32(f.ID)
		if e.level == 2 {
			return func() {}
		}
		w.u32(f.Permissions)
		w.u32(f.Locks)
		w.ref()
		w.ref()
		return func() { w.str(f.Path); w.str(f.User) }
	}), 0
}

// netFileClose answers NetrFileClose (MS-SRVS 3.1.4.18): administrators
// only.
func (c *call) netFileClose() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	id := r.u32()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if !c.caller.Admin {
		return w.status(errAccessDenied), 0
	}
	if c.s.State == nil || !c.s.State.CloseFile(c.ctx, id) {
		return w.status(errFileIDNotFound), 0
	}
	return w.status(errSuccess), 0
}

// netConnectionEnum answers NetrConnectionEnum (MS-SRVS 3.1.4.1): the
// tree connects to a share ("NAME") or from a client ("\\addr"), levels
// 0 and 1 (CONNECTION_INFO_0 and _1, 2.2.4.1-2); administrators only.
func (c *call) netConnectionEnum() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	qual := r.uniqueString()
	e := r.enumStruct()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if e.level != 0 && e.level != 1 {
		return w.enumError(e, errInvalidLevel), 0
	}
	if !c.caller.Admin {
		return w.enumError(e, errAccessDenied), 0
	}
	if qual == "" {
		return w.enumError(e, errInvalidParam), 0
	}
	byClient := strings.HasPrefix(qual, `\\`)
	var list []ConnectionInfo
	if c.s.State != nil {
		for _, ci := range c.s.State.Connections(c.ctx) {
			if byClient && matchClient(qual, ci.Client) || !byClient && strings.EqualFold(qual, ci.Share) {
				list = append(list, ci)
			}
		}
	}
	if !byClient && len(list) == 0 {
		known := false
		for _, sh := range c.s.shares(c.ctx) {
			known = known || strings.EqualFold(sh.Name, qual)
		}
		if !known {
			return w.enumError(e, errNetNameDel), 0
		}
	}
	return w.writeEnum(e, len(list), func(i int) func() {
		ci := list[i]
		w.u32(ci.ID)
		if e.level == 0 {
			return func() {}
		}
		w.u32(ShareTypeDisk)
		w.u32(ci.Opens)
		w.u32(1) // users
		w.u32(seconds(ci.Time))
		w.ref()
		w.ref()
		net := ci.Share
		if !byClient {
			net = uncClient(ci.Client)
		}
		return func() { w.str(ci.User); w.str(net) }
	}), 0
}

// emptyEnum answers the enumerations of what a file server has none of:
// character devices and their queues (NetrCharDevEnum, NetrCharDevQEnum,
// MS-SRVS 3.1.4.1-2) and transports it would name
// (NetrServerTransportEnum, 3.1.4.20), at the given levels. withUser is
// true for a call that takes a user name before the container.
func (c *call) emptyEnum(withUser bool, levels ...uint32) ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	if withUser {
		r.uniqueString()
	}
	e := r.enumStruct()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	for _, l := range levels {
		if l == e.level {
			return w.writeEnum(e, 0, nil), 0
		}
	}
	return w.enumError(e, errInvalidLevel), 0
}

// netShareCheck answers NetrShareCheck (MS-SRVS 3.1.4.14): whether a
// local path is shared, and as what.
func (c *call) netShareCheck() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	dev := r.stringBody()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	for _, sh := range c.s.shares(c.ctx) {
		if p := sharePath(sh); p != "" && strings.EqualFold(p, dev) {
			w.u32(sh.Type)
			return w.status(errSuccess), 0
		}
	}
	w.u32(0)
	return w.status(2311), 0 // NERR_DeviceNotShared
}

// netDiskEnum answers NetrServerDiskEnum (MS-SRVS 3.1.4.19) at level 0:
// the one drive the share paths are reported on.
func (c *call) netDiskEnum() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	level := r.u32()
	r.u32()           // EntriesRead
	if r.u32() != 0 { // an input buffer: never sent
		r.err = errNDR
	}
	r.u32() // PreferedMaximumLength
	hasResume := r.u32() != 0
	if hasResume {
		r.u32()
	}
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if level != 0 {
		w.u32(0)
		w.u32(0)
		w.u32(0)
		w.ptr(hasResume)
		if hasResume {
			w.u32(0)
		}
		return w.status(errInvalidLevel), 0
	}
	w.u32(1)
	w.ref()
	w.u32(1) // max count
	w.u32(0) // offset
	w.u32(1) // actual count
	// DISK_INFO: [string] WCHAR Disk[3], a varying array.
	w.u32(0)
	w.u32(3)
	w.b = append(w.b, 'C', 0, ':', 0, 0, 0)
	w.u32(1) // TotalEntries
	if w.ptr(hasResume) {
		w.u32(0)
	}
	return w.status(errSuccess), 0
}
