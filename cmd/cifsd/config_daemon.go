package main

// How the daemon (main.go's run) uses a configuration file: the file's
// settings become the values of the flags not given on the command line,
// its shares and users are added to the flags', and the listening
// addresses beyond the first are served too. Each is a small function
// called in one line from run, so run reads as the flags-only daemon did.

import (
	"flag"
	"log/slog"
	"net"
	"strings"

	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"golang.org/x/sys/unix"
)

// fileTargets are the flag values a configuration file may set.
type fileTargets struct {
	name, logLevel, keytab, listen, signing, encrypt *string
	multichannel, guest, anonymous                   *bool
}

// applyConfigFile loads path (nothing when path is "") and sets each
// target whose flag was not given from it; extra are the listening
// addresses after the first.
func applyConfigFile(path string, t fileTargets) (cfg *Config, extra []string, err error) {
	if path == "" {
		return nil, nil, nil
	}
	if cfg, err = loadConfig(path); err != nil {
		return nil, nil, err
	}
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	g := &cfg.Global
	setString := func(flagName string, dst *string, v string) {
		if !given[flagName] && v != "" {
			*dst = v
		}
	}
	setString("name", t.name, g.ServerName)
	setString("log-level", t.logLevel, g.LogLevel)
	setString("keytab", t.keytab, g.Keytab)
	if !given["listen"] && len(g.Listen) > 0 {
		*t.listen, extra = g.Listen[0], g.Listen[1:]
	}
	if !given["signing"] && g.Signing != nil {
		*t.signing = map[smb.SigningPolicy]string{smb.SigningRequired: "required", smb.SigningEnabled: "enabled"}[*g.Signing]
	}
	if !given["encrypt"] && g.Encryption != nil {
		*t.encrypt = [...]string{"desired", "required", "off"}[*g.Encryption]
	}
	if !given["multichannel"] && g.MultiChannel != nil {
		*t.multichannel = *g.MultiChannel
	}
	if !given["guest"] {
		*t.guest = g.Guest
	}
	if !given["anonymous"] && g.Anonymous != nil {
		*t.anonymous = *g.Anonymous
	}
	return cfg, extra, nil
}

// apply logs the file's warnings, sets the server fields that have no flag,
// and returns the file's shares (opened) and users (NT hashes). A nil
// Config applies nothing.
func (c *Config) apply(srv *smb.Server, log *slog.Logger) ([]smb.Share, map[string][]byte, error) {
	if c == nil {
		return nil, nil, nil
	}
	for _, w := range c.Warnings {
		log.Warn(w)
	}
	srv.Comment = c.Global.Comment
	srv.MinDialect, srv.MaxDialect = c.Global.MinDialect, c.Global.MaxDialect
	srv.DisableDFS = c.Global.DisableDFS // host msdfs (config_dfs.go)
	shares, err := c.openShares()
	if err != nil {
		return nil, nil, err
	}
	users, err := c.loadUsers()
	if err != nil {
		return nil, nil, err
	}
	// Like smbd: the masks and forced modes decide new files' modes, not
	// the umask the daemon happened to start with.
	unix.Umask(0)
	log.Info("configuration loaded", "file", c.File, "shares", len(shares), "users", len(users))
	return shares, users, nil
}

// workgroup is the NTLM domain name the file sets ("" for none).
func (c *Config) workgroup() string {
	if c == nil {
		return ""
	}
	return c.Global.Workgroup
}

// mergeShares adds the flags' shares to the file's, a flag's share
// replacing the file's of the same name; -read-only makes every share
// read-only. With a configuration file the daemon's umask is 0 (see
// apply), so a flag's share gets Samba's default masks as the file's
// shares do, not world-writable files.
func (c *Config) mergeShares(file, flags []smb.Share, readOnly bool) []smb.Share {
	out := append([]smb.Share(nil), file...)
next:
	for _, sh := range flags {
		if c != nil {
			if sh.CreateMask == 0 {
				sh.CreateMask = defaultCreateMask
			}
			if sh.DirectoryMask == 0 {
				sh.DirectoryMask = defaultDirectoryMask
			}
		}
		for i := range out {
			if strings.EqualFold(out[i].Name, sh.Name) {
				out[i] = sh
				continue next
			}
		}
		out = append(out, sh)
	}
	if readOnly {
		for i := range out {
			out[i].ReadOnly = true
		}
	}
	return out
}

// userStore is the database's users plus -user's, -user winning.
func userStore(db map[string][]byte, passwords map[string]string) ntlm.UserStore {
	all := make(map[string][]byte, len(db)+len(passwords))
	for n, h := range db {
		all[n] = h
	}
	for n, pw := range passwords {
		all[n] = ntlm.NTHash(pw)
	}
	return ntlm.NTHashes(all)
}

// listenAll listens on each address (the file's beyond the first).
func listenAll(addrs []string, log *slog.Logger) ([]net.Listener, error) {
	var ls []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, err
		}
		log.Info("serving", "addr", l.Addr().String())
		ls = append(ls, l)
	}
	return ls, nil
}

// serveAll serves each listener; the first error ends the daemon through
// errc (later ones are dropped: errc holds one).
func serveAll(srv *smb.Server, ls []net.Listener, errc chan<- error) {
	for _, l := range ls {
		go func() {
			err := srv.Serve(l)
			select {
			case errc <- err:
			default:
			}
		}()
	}
}
