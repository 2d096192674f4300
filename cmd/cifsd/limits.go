package main

import (
	"flag"
	"log/slog"
	"strconv"
	"time"

	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
)

// limitFlags are the daemon's flags for smb.Server's Limits and
// LogonThrottle and for NTLMv1. Zero takes the server's default, a
// negative value means no limit.
type limitFlags struct {
	limits   smb.Limits
	throttle smb.LogonThrottle
	idle     time.Duration
	ntlmv1   bool
}

// addLimitFlags defines the flags on fs.
func addLimitFlags(fs *flag.FlagSet) *limitFlags {
	f := &limitFlags{}
	d := smb.DefaultLimits
	fs.IntVar(&f.limits.MaxConnections, "max-connections", 0,
		"connections served at once, in all (0: "+strconv.Itoa(d.MaxConnections)+"; -1: no limit)")
	fs.IntVar(&f.limits.MaxConnectionsPerIP, "max-ip-connections", 0,
		"connections from one client address (0: "+strconv.Itoa(d.MaxConnectionsPerIP)+"; -1: no limit)")
	fs.IntVar(&f.limits.MaxSessionsPerConnection, "max-sessions", 0,
		"sessions on one connection (0: "+strconv.Itoa(d.MaxSessionsPerConnection)+"; -1: no limit)")
	fs.IntVar(&f.limits.MaxOpensPerSession, "max-opens", 0,
		"open files of one session (0: "+strconv.Itoa(d.MaxOpensPerSession)+"; -1: no limit)")
	fs.IntVar(&f.limits.MaxAsyncPerConnection, "max-async", 0,
		"operations of one connection waiting asynchronously (0: "+strconv.Itoa(d.MaxAsyncPerConnection)+"; -1: no limit)")
	fs.IntVar(&f.limits.MaxInFlightBytes, "max-inflight-bytes", 0,
		"request bytes of one connection being served at once (0: "+strconv.Itoa(d.MaxInFlightBytes)+"; -1: no limit)")
	fs.DurationVar(&f.limits.HandshakeTimeout, "handshake-timeout", 0,
		"time from connect to an authenticated session (0: "+d.HandshakeTimeout.String()+"; -1s: none)")
	fs.DurationVar(&f.limits.FrameTimeout, "frame-timeout", 0,
		"time a started frame may take, renewed per "+strconv.Itoa(smb.FrameProgressBytes>>10)+
			" KiB received (0: "+d.FrameTimeout.String()+"; -1s: none)")
	fs.DurationVar(&f.idle, "idle-timeout", 0, "close a connection that sent nothing for this long (0: 15m; -1s: never)")
	fs.DurationVar(&f.throttle.Delay, "logon-delay", 0,
		"wait of the first delayed failed logon of a client address, doubling after (0: "+
			smb.DefaultLogonThrottle.Delay.String()+"; -1s: no delay)")
	fs.BoolVar(&f.ntlmv1, "ntlmv1", false, "admit NTLMv1 logons (INSECURE: for old devices only; each is logged)")
	return f
}

// apply sets the limits on srv and NTLMv1 on mech.
func (f *limitFlags) apply(srv *smb.Server, mech *ntlm.Mechanism, log *slog.Logger) {
	srv.Limits = f.limits
	srv.LogonThrottle = f.throttle
	if f.idle != 0 {
		srv.IdleTimeout = f.idle
	}
	if f.ntlmv1 {
		mech.AllowNTLMv1 = true
		mech.Logger = log
		log.Warn("-ntlmv1: NTLMv1 logons admitted; they are insecure (a captured exchange can be cracked offline)")
	}
}

// fromFile takes the configuration file's limits (max connections, max ip
// connections, max open files, deadtime) for the flags not given.
func (f *limitFlags) fromFile(g Global, given map[string]bool) {
	set := func(flagName string, dst *int, v int) {
		if !given[flagName] && v != 0 {
			*dst = v
		}
	}
	set("max-connections", &f.limits.MaxConnections, g.Limits.MaxConnections)
	set("max-ip-connections", &f.limits.MaxConnectionsPerIP, g.Limits.MaxConnectionsPerIP)
	set("max-opens", &f.limits.MaxOpensPerSession, g.Limits.MaxOpensPerSession)
	if !given["idle-timeout"] && g.IdleTimeout != 0 {
		f.idle = g.IdleTimeout
	}
}
