package rpc

// wkssvc is the workstation service (MS-WKST): what Windows asks a server
// it browses.
var wkssvcInterface = &Interface{
	Name:  "wkssvc",
	uuid:  mustUUID("6bffd098-a112-3610-9833-46c3f87e345a"),
	major: 1,
	ops: map[uint16]opFunc{
		0: (*call).wkstaGetInfo,
	},
}

// wkstaGetInfo answers NetrWkstaGetInfo (MS-WKST 3.2.4.1) at level 100
// (WKSTA_INFO_100, 2.2.5.1).
func (c *call) wkstaGetInfo() ([]byte, uint32) {
	r := c.r
	r.uniqueString()
	level := r.u32()
	if r.err != nil {
		return c.bad()
	}
	w := &writer{}
	switch {
	case level != 100 && level != 101 && level != 102 && level != 502:
		w.u32(level)
		return w.status(errInvalidLevel), 0
	case level != 100 && c.caller.Anonymous:
		// Level 100 is for anyone; the others for authenticated users
		// (NetWkstaGetInfo, as a member server answers).
		w.u32(level)
		w.u32(0)
		return w.status(errAccessDenied), 0
	case level == 502:
		// WKSTA_INFO_502 (MS-WKST 2.2.5.6): the redirector tunables of a
		// workstation, which a server does not have; Windows' defaults.
		w.u32(level)
		w.ref()
		for _, v := range wksta502 {
			w.u32(v)
		}
		return w.status(errSuccess), 0
	}
	// WKSTA_INFO_100, _101 and _102 (MS-WKST 2.2.5.1-3).
	w.u32(level)
	w.ref()
	w.u32(500) // PLATFORM_ID_NT
	w.ref()
	w.ref()
	w.u32(10)
	w.u32(0)
	if level >= 101 {
		w.ref() // lan root
	}
	if level == 102 {
		users := 0
		if c.s.State != nil {
			users = len(c.s.State.Sessions(c.ctx))
		}
		w.u32(uint32(users))
	}
	w.str(c.s.serverName())
	w.str(c.s.domain())
	if level >= 101 {
		w.str(`C:\`)
	}
	return w.status(errSuccess), 0
}

// wksta502 are the 35 fields of WKSTA_INFO_502, char_wait to
// use_512_byte_max_transfer: Windows' default values, and the booleans
// of what this server does (opportunistic locking, NT caching).
var wksta502 = [35]uint32{
	3600, 250, 16, 600, 50, 60, 512, 17, 6144, 10, 32, 8192, 65535, 40, 45, 0,
	3, 3, 5, 3600,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
}
