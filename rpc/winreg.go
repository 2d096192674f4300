package rpc

import (
	"context"
	"strings"

	"github.com/cifsd/cifsd/internal/utf16le"
)

// winreg is the remote registry (MS-RRP), read-only and minimal: a small
// synthetic tree with the keys Windows clients and admin tools probe on a
// file server (its version, its product type, the LanmanServer shares).
// Every other key is missing, as on Windows; changes are refused.
var winregInterface = &Interface{
	Name:  "winreg",
	uuid:  mustUUID("338cd001-2244-31f1-aaaa-900038001003"),
	major: 1,
	ops: map[uint16]opFunc{
		0:  (*call).regOpenRoot, // OpenClassesRoot
		1:  (*call).regOpenRoot, // OpenCurrentUser
		2:  (*call).regOpenHKLM,
		4:  (*call).regOpenRoot, // OpenUsers
		5:  (*call).regCloseKey,
		6:  (*call).regCreateKey,
		7:  (*call).regRefused, // BaseRegDeleteKey
		8:  (*call).regRefused, // BaseRegDeleteValue
		9:  (*call).regEnumKey,
		10: (*call).regEnumValue,
		11: (*call).regFlushKey,
		14: (*call).regNotify,
		15: (*call).regOpenKey,
		16: (*call).regQueryInfoKey,
		17: (*call).regQueryValue,
		22: (*call).regRefused, // BaseRegSetValue
		26: (*call).regGetVersion,
		27: (*call).regOpenRoot, // OpenCurrentConfig
		29: (*call).regQueryMultipleValues,
		34: (*call).regQueryMultipleValues2,
	},
}

// Registry value types (MS-RRP 2.2.9 / MS-DTYP).
const (
	regSZ       = 1
	regDWORD    = 4
	regMultiSZ  = 7
	errBadPathN = 161 // ERROR_BAD_PATHNAME
)

type regValue struct {
	name string
	typ  uint32
	data []byte
}

type regKey struct {
	name   string
	subs   []*regKey
	values []regValue
}

func (k *regKey) sub(name string) *regKey {
	for _, s := range k.subs {
		if strings.EqualFold(s.name, name) {
			return s
		}
	}
	return nil
}

// path finds a key below k by a backslash-separated path.
func (k *regKey) path(p string) *regKey {
	for _, part := range strings.Split(strings.Trim(p, `\`), `\`) {
		if part == "" {
			continue
		}
		if k = k.sub(part); k == nil {
			return nil
		}
	}
	return k
}

func sz(name, s string) regValue {
	return regValue{name: name, typ: regSZ, data: utf16le.Encode(s + "\x00")}
}

func multiSZ(name string, ss ...string) regValue {
	var b []byte
	for _, s := range ss {
		b = append(b, utf16le.Encode(s+"\x00")...)
	}
	return regValue{name: name, typ: regMultiSZ, data: append(b, 0, 0)}
}

func dword(name string, v uint32) regValue {
	return regValue{name: name, typ: regDWORD, data: le.AppendUint32(nil, v)}
}

func key(name string, subs []*regKey, values ...regValue) *regKey {
	return &regKey{name: name, subs: subs, values: values}
}

// hklm builds HKEY_LOCAL_MACHINE from the server's current shares.
func (s *Server) hklm(ctx context.Context) *regKey {
	var shares []regValue
	for _, sh := range s.shares(ctx) {
		if sh.Type&^ShareTypeSpecial == ShareTypeIPC {
			continue
		}
		shares = append(shares, multiSZ(sh.Name,
			"CSCFlags=0", "MaxUses=4294967295", "Path="+sharePath(sh),
			"Permissions=0", "Remark="+sh.Comment, "Type=0"))
	}
	return key("HKLM", []*regKey{
		key("SOFTWARE", []*regKey{
			key("Microsoft", []*regKey{
				key("Windows NT", []*regKey{
					key("CurrentVersion", nil,
						sz("ProductName", "cifsd"),
						sz("CurrentVersion", "6.3"),
						sz("CurrentBuildNumber", "9600"),
						dword("CurrentMajorVersionNumber", 10),
						dword("CurrentMinorVersionNumber", 0),
						sz("InstallationType", "Server"),
						sz("SystemRoot", `C:\Windows`)),
				}),
			}),
		}),
		key("SYSTEM", []*regKey{
			key("CurrentControlSet", []*regKey{
				key("Control", []*regKey{
					key("ProductOptions", nil, sz("ProductType", "ServerNT")),
					key("ComputerName", []*regKey{
						key("ComputerName", nil, sz("ComputerName", s.serverName())),
					}),
				}),
				key("Services", []*regKey{
					key("LanmanServer", []*regKey{
						key("Parameters", nil, sz("srvcomment", s.Comment)),
						key("Shares", nil, shares...),
					}),
				}),
			}),
		}),
	})
}

// regHandle is an open key.
type regHandle struct{ key *regKey }

// Key access rights that change something (MS-RRP 2.2.3).
const keyWriteRights = 0x00000002 | 0x00000004 | 0x00000020 | 0x00010000 | 0x00040000 | 0x00080000 | genericWrite | genericAll

func (c *call) regOpen(k *regKey, access uint32) ([]byte, uint32) {
	w := &writer{}
	if access&keyWriteRights != 0 && access&maximumAllowed == 0 {
		w.handle([20]byte{})
		return w.status(errAccessDenied), 0
	}
	if c.caller.Anonymous {
		w.handle([20]byte{})
		return w.status(errAccessDenied), 0
	}
	h, ok := c.p.handles.add(&regHandle{key: k})
	if !ok {
		w.handle([20]byte{})
		return w.status(1450), 0 // ERROR_NO_SYSTEM_RESOURCES
	}
	w.handle(h)
	return w.status(errSuccess), 0
}

// regOpenHKLM answers OpenLocalMachine (MS-RRP 3.1.5.3).
func (c *call) regOpenHKLM() ([]byte, uint32) {
	c.r.uniqueWchar()
	access := c.r.u32()
	if c.r.err != nil {
		return c.bad()
	}
	return c.regOpen(c.s.hklm(c.ctx), access)
}

// regOpenRoot answers the other predefined keys: present and empty.
func (c *call) regOpenRoot() ([]byte, uint32) {
	c.r.uniqueWchar()
	access := c.r.u32()
	if c.r.err != nil {
		return c.bad()
	}
	return c.regOpen(key("", nil), access)
}

func (c *call) regKeyOf(h [20]byte) (*regKey, bool) {
	rh, ok := handleOf[*regHandle](c, h)
	if !ok {
		return nil, false
	}
	return rh.key, true
}

// regCloseKey answers BaseRegCloseKey (MS-RRP 3.1.5.6).
func (c *call) regCloseKey() ([]byte, uint32) {
	h := c.r.handle()
	if c.r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if !c.p.handles.close(h) {
		return nil, faultContextMismat
	}
	w.handle([20]byte{})
	return w.status(errSuccess), 0
}

// rrpString reads an RRP_UNICODE_STRING passed inline, without its NULs.
func (r *reader) rrpString() string {
	return strings.TrimRight(r.ustring(), "\x00")
}

// regOpenKey answers BaseRegOpenKey (MS-RRP 3.1.5.15).
func (c *call) regOpenKey() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	sub := r.rrpString()
	r.u32() // dwOptions
	access := r.u32()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	k, ok := c.regKeyOf(h)
	if !ok {
		w.handle([20]byte{})
		return w.status(6), 0
	}
	target := k.path(sub)
	if target == nil {
		w.handle([20]byte{})
		return w.status(errFileNotFound), 0
	}
	return c.regOpen(target, access)
}

// regCreateKey answers BaseRegCreateKey (MS-RRP 3.1.5.7): an existing key
// opens; nothing is created.
func (c *call) regCreateKey() ([]byte, uint32) {
	w := &writer{}
	w.handle([20]byte{})
	w.u32(0) // lpdwDisposition
	return w.status(errAccessDenied), 0
}

// regRefused answers the calls that change a key: not on this registry.
func (c *call) regRefused() ([]byte, uint32) {
	w := &writer{}
	return w.status(errAccessDenied), 0
}

// regFlushKey answers BaseRegFlushKey: nothing to flush.
func (c *call) regFlushKey() ([]byte, uint32) {
	h := c.r.handle()
	if c.r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if _, ok := c.regKeyOf(h); !ok {
		return w.status(6), 0
	}
	return w.status(errSuccess), 0
}

// regGetVersion answers BaseRegGetVersion (MS-RRP 3.1.5.25).
func (c *call) regGetVersion() ([]byte, uint32) {
	h := c.r.handle()
	if c.r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if _, ok := c.regKeyOf(h); !ok {
		w.u32(0)
		return w.status(6), 0
	}
	w.u32(6)
	return w.status(errSuccess), 0
}

func charLen(s string) uint32 { return uint32(utf16le.EncodedLen(s) / 2) }

// regQueryInfoKey answers BaseRegQueryInfoKey (MS-RRP 3.1.5.16).
func (c *call) regQueryInfoKey() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	r.rrpString() // lpClassIn
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	k, ok := c.regKeyOf(h)
	var maxSub, maxName, maxData uint32
	if ok {
		for _, s := range k.subs {
			maxSub = max(maxSub, charLen(s.name))
		}
		for _, v := range k.values {
			maxName = max(maxName, charLen(v.name))
			maxData = max(maxData, uint32(len(v.data)))
		}
	}
	// lpClassOut: an empty class.
	w.u16(0)
	w.u16(0)
	w.u32(0)
	if !ok {
		for range 9 {
			w.u32(0)
		}
		return w.status(6), 0
	}
	w.u32(uint32(len(k.subs)))
	w.u32(maxSub)
	w.u32(0) // max class length
	w.u32(uint32(len(k.values)))
	w.u32(maxName)
	w.u32(maxData)
	w.u32(0) // security descriptor size
	w.u64(uint64(processStart.UnixNano()/100 + 116444736000000000))
	return w.status(errSuccess), 0
}

// valueArgs are the [in] lpType, lpData, lpcbData and lpcbLen of
// BaseRegQueryValue and BaseRegEnumValue.
type valueArgs struct {
	hasType, hasData, hasSize, hasLen bool
	size                              uint32
}

func (r *reader) valueArgs() valueArgs {
	var a valueArgs
	if a.hasType = r.u32() != 0; a.hasType {
		r.u32()
	}
	if a.hasData = r.u32() != 0; a.hasData {
		r.count(1 << 24) // max count
		r.u32()          // offset
		n := r.count(1 << 24)
		r.take(n)
	}
	if a.hasSize = r.u32() != 0; a.hasSize {
		a.size = r.u32()
	}
	if a.hasLen = r.u32() != 0; a.hasLen {
		r.u32()
	}
	return a
}

// writeValue writes the [out] lpType, lpData, lpcbData and lpcbLen of a
// value: its data when the client's buffer holds it, ERROR_MORE_DATA and
// the size needed when not (MS-RRP 3.1.5.17). lpData's conformance and
// variance are the lpcbData and lpcbLen returned, as its IDL says.
func (w *writer) writeValue(a valueArgs, v regValue) uint32 {
	werr := uint32(errSuccess)
	n := uint32(len(v.data))
	length := n
	if a.hasData && n > a.size {
		werr, length = errMoreData, 0
	}
	if w.ptr(a.hasType) {
		w.u32(v.typ)
	}
	if w.ptr(a.hasData) {
		w.u32(n)
		w.u32(0)
		w.u32(length)
		if length > 0 {
			w.b = append(w.b, v.data...)
		}
	}
	if w.ptr(a.hasSize) {
		w.u32(n)
	}
	if w.ptr(a.hasLen) {
		w.u32(length)
	}
	return werr
}

// nullValue writes the [out] value arguments of a failed call: the
// pointers the client passed come back, pointing at zero.
func (w *writer) nullValue(a valueArgs) {
	if w.ptr(a.hasType) {
		w.u32(0)
	}
	if w.ptr(a.hasData) {
		w.u32(0)
		w.u32(0)
		w.u32(0)
	}
	if w.ptr(a.hasSize) {
		w.u32(0)
	}
	if w.ptr(a.hasLen) {
		w.u32(0)
	}
}

// regQueryValue answers BaseRegQueryValue (MS-RRP 3.1.5.17).
func (c *call) regQueryValue() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	head := r.ustrHead()
	name := strings.TrimRight(r.ustrBody(head), "\x00")
	a := r.valueArgs()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	k, ok := c.regKeyOf(h)
	werr := uint32(6)
	var found *regValue
	switch {
	case !ok:
	case !head.present:
		werr = errInvalidParam // no name at all, not the default value's ""
	case !a.hasType || !a.hasSize || !a.hasLen:
		// Without somewhere to put the type, size and length there is no
		// answer (what Windows answers, per smbtorture's winreg tests).
		werr = errInvalidParam
	default:
		werr = errFileNotFound
		found = k.value(name)
	}
	if found == nil {
		w.nullValue(a)
		return w.status(werr), 0
	}
	return w.status(w.writeValue(a, *found)), 0
}

// writeName writes an [out] RRP_UNICODE_STRING of a name with its NUL in
// a buffer of maxBytes, as the client sized it.
func (w *writer) writeName(name string, maxBytes uint16) {
	u := utf16le.Encode(name + "\x00")
	w.u16(uint16(len(u)))
	w.u16(maxBytes)
	w.ref()
	w.u32(uint32(maxBytes / 2))
	w.u32(0)
	w.u32(uint32(len(u) / 2))
	w.b = append(w.b, u...)
}

// regEnumKey answers BaseRegEnumKey (MS-RRP 3.1.5.10).
func (c *call) regEnumKey() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	idx := r.u32()
	nameIn := r.ustrHead()
	r.ustrBody(nameIn)
	hasClass := r.u32() != 0
	if hasClass {
		r.ustring()
	}
	hasTime := r.u32() != 0
	if hasTime {
		r.u32()
		r.u32()
	}
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	k, ok := c.regKeyOf(h)
	werr := uint32(errSuccess)
	switch {
	case !ok:
		werr = 6
	case int(idx) >= len(k.subs):
		werr = errNoMoreItems
	case int(charLen(k.subs[idx].name)+1)*2 > int(nameIn.maxLength):
		werr = errMoreData
	}
	if werr != errSuccess {
		w.u16(0)
		w.u16(nameIn.maxLength)
		w.u32(0)
	} else {
		w.writeName(k.subs[idx].name, nameIn.maxLength)
	}
	if hasClass {
		w.ref()
		w.u16(0)
		w.u16(0)
		w.u32(0)
	} else {
		w.u32(0)
	}
	if hasTime {
		w.ref()
		w.u64(uint64(processStart.UnixNano()/100 + 116444736000000000))
	} else {
		w.u32(0)
	}
	return w.status(werr), 0
}

// regEnumValue answers BaseRegEnumValue (MS-RRP 3.1.5.11).
func (c *call) regEnumValue() ([]byte, uint32) {
	r := c.r
	h := r.handle()
	idx := r.u32()
	nameIn := r.ustrHead()
	r.ustrBody(nameIn)
	a := r.valueArgs()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	k, ok := c.regKeyOf(h)
	werr := uint32(errSuccess)
	switch {
	case !ok:
		werr = 6
	case int(idx) >= len(k.values):
		werr = errNoMoreItems
	case int(charLen(k.values[idx].name)+1)*2 > int(nameIn.maxLength):
		werr = errMoreData
	}
	if werr != errSuccess {
		w.u16(0)
		w.u16(nameIn.maxLength)
		w.u32(0)
		w.nullValue(a)
		return w.status(werr), 0
	}
	v := k.values[idx]
	w.writeName(v.name, nameIn.maxLength)
	return w.status(w.writeValue(a, v)), 0
}

// regNotify answers BaseRegNotifyChangeKeyValue (MS-RRP 3.1.5.13): this
// registry never changes, so there is nothing to wait for.
func (c *call) regNotify() ([]byte, uint32) {
	h := c.r.handle()
	if c.r.err != nil {
		return c.bad()
	}
	w := &writer{}
	if _, ok := c.regKeyOf(h); !ok {
		return w.status(6), 0
	}
	return w.status(50), 0 // ERROR_NOT_SUPPORTED
}
