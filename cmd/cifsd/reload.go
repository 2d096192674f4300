package main

// Reload (SIGHUP or `cifsd control reload`): the configuration file, the
// user database and the group file are read again and what can change
// while clients are connected changes at once:
//   - the shares: smb.ShareSet.Set; a share whose settings did not change
//     keeps its *smb.Share, so its open files' state (share modes,
//     leases, locks) is untouched; a new or changed share is a new
//     *smb.Share, used by new tree connects; a removed or unavailable one
//     refuses new tree connects (STATUS_BAD_NETWORK_NAME). The server keeps
//     open-file state per *smb.Share, so while tree connects made before a
//     share's options changed are still up, their opens and those made
//     after do not see each other's share modes, leases and locks;
//     changing a busy share's options is best left to a quiet moment;
//   - the users (the authenticator reads the store at each logon) and the
//     groups (each share's InGroup reads the table at each check);
//   - the user database and group file names themselves.
// lsarpc's and samr's accounts and the groups in access tokens
// (smb.Server.Accounts) stay as they were at start: a Server's fields do
// not change while it serves. The other [global] options (addresses, names, protocol, security,
// limits, metrics address, control socket) need a restart: a change is
// logged and the running value kept. A file that does not load (a
// malformed line, a share path that cannot be opened) changes nothing.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
)

// daemon is the running server's reloadable state.
type daemon struct {
	file       string // the configuration file; "" with none
	log        *slog.Logger
	readOnly   bool         // -read-only
	flagShares []*smb.Share // -share and -mem-share (and the default share): fixed
	passwords  map[string]string

	shares *smb.ShareSet
	users  userSource
	groups atomic.Pointer[groupTable]

	mu   sync.Mutex // one load at a time; guards cfg and open
	cfg  *Config
	open map[string]openShare // by upper-cased name: the file's shares served
}

// openShare is a share of the file as served, with the settings it was
// made from (Line cleared), to tell whether a reload changed it.
type openShare struct {
	conf  ShareConf
	share *smb.Share
}

// userSource is the ntlm.UserStore the authenticator asks at each logon;
// a reload replaces what it holds.
type userSource struct{ p atomic.Pointer[userBox] }

type userBox struct {
	ntlm.UserStore
	names []string
}

func (u *userSource) LookupNTHash(ctx context.Context, domain, user string) ([]byte, error) {
	b := u.p.Load()
	if b == nil {
		return nil, fmt.Errorf("%w: %s", ntlm.ErrNoSuchUser, user)
	}
	return b.LookupNTHash(ctx, domain, user)
}

// names are the users known, the database's and -user's.
func (u *userSource) names() []string {
	if b := u.p.Load(); b != nil {
		return b.names
	}
	return nil
}

// newDaemon loads cfg (nil: no file) and serves its shares and the
// flags' through a ShareSet set as srv's ShareSource.
func newDaemon(cfg *Config, srv *smb.Server, flagShares []smb.Share, passwords map[string]string, readOnly bool, log *slog.Logger) (*daemon, error) {
	d := &daemon{log: log, readOnly: readOnly, passwords: passwords, shares: smb.NewShareSet()}
	for _, sh := range flagShares {
		d.flagShares = append(d.flagShares, &sh)
	}
	if cfg != nil {
		d.file = cfg.File
	}
	if _, err := d.load(cfg); err != nil {
		return nil, err
	}
	srv.Shares, srv.ShareSource = nil, d.shares
	return d, nil
}

// inGroup is smb.Share.InGroup over the group table loaded last.
func (d *daemon) inGroup(user, group string) bool {
	if t := d.groups.Load(); t != nil {
		return t.inGroup(user, group)
	}
	return false
}

// load makes cfg's shares, users and groups the served ones, all or
// nothing; it returns the shares served. The caller holds d.mu, or is
// newDaemon.
func (d *daemon) load(cfg *Config) ([]*smb.Share, error) {
	users := map[string][]byte{}
	groups := groupTable{}
	next := map[string]openShare{}
	var list []*smb.Share
	if cfg != nil {
		var err error
		if users, err = cfg.loadUsers(); err != nil {
			return nil, err
		}
		if groups, err = loadGroups(cfg.Global.GroupFile); err != nil {
			return nil, err
		}
		for _, sc := range cfg.Shares {
			line := sc.Line
			sc.Line = 0
			sc.ReadOnly = sc.ReadOnly || d.readOnly
			k := strings.ToUpper(sc.Name)
			if old, ok := d.open[k]; ok && reflect.DeepEqual(old.conf, sc) {
				next[k] = old
				list = append(list, old.share)
				continue
			}
			fsys, err := vfs.Dir(sc.Path)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: share [%s]: %w", cfg.File, line, sc.Name, err)
			}
			sh := sc.Share
			sh.FS, sh.InGroup = fsys, d.inGroup
			next[k] = openShare{conf: sc, share: &sh}
			list = append(list, &sh)
		}
	}
	// A flag's share replaces the file's of the same name.
	for _, fs := range d.flagShares {
		i := 0
		for _, sh := range list {
			if !strings.EqualFold(sh.Name, fs.Name) {
				list[i] = sh
				i++
			}
		}
		list = append(list[:i], fs)
	}
	all := make(map[string][]byte, len(users)+len(d.passwords))
	names := make([]string, 0, len(all))
	for n, h := range users {
		all[n] = h
	}
	for n, pw := range d.passwords {
		all[n] = ntlm.NTHash(pw)
	}
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	d.groups.Store(&groups)
	d.users.p.Store(&userBox{UserStore: ntlm.NTHashes(all), names: names})
	d.shares.Set(list...)
	d.open, d.cfg = next, cfg
	return list, nil
}

// reloadResult is what a reload did, for `cifsd control reload`.
type reloadResult struct {
	Shares   int      `json:"shares"`
	Users    int      `json:"users"`
	Warnings []string `json:"warnings,omitempty"`
}

// reload reads the configuration file, the user database and the group
// file again and serves them (see the top of this file). On an error the
// running configuration is kept, and the error says why (a malformed
// file's names its line).
func (d *daemon) reload() (reloadResult, error) {
	if d.file == "" {
		return reloadResult{}, errors.New("reload: no configuration file (-config) to read")
	}
	cfg, err := loadConfig(d.file)
	if err != nil {
		d.log.Error("reload failed; the running configuration is kept", "err", err)
		return reloadResult{}, fmt.Errorf("reload: %w (the running configuration is kept)", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	res := reloadResult{Warnings: cfg.Warnings}
	// Keep what needs a restart as it runs; the next reload compares
	// with that.
	running := d.cfg.Global
	for _, opt := range restartOnly(running, cfg.Global) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %s changed: it takes effect at the next restart; the running value is kept", d.file, opt))
	}
	running.PasswdFile, running.GroupFile = cfg.Global.PasswdFile, cfg.Global.GroupFile
	cfg.Global = running
	for _, w := range res.Warnings {
		d.log.Warn(w)
	}
	shares, err := d.load(cfg)
	if err != nil {
		d.log.Error("reload failed; the running configuration is kept", "err", err)
		return reloadResult{}, fmt.Errorf("reload: %w (the running configuration is kept)", err)
	}
	res.Shares, res.Users = len(shares), len(d.users.names())
	d.log.Info("configuration reloaded", "file", d.file, "shares", res.Shares, "users", res.Users)
	return res, nil
}

// globalOptionOf names the option behind each field of Global that only a
// restart applies.
var globalOptionOf = map[string]string{
	"Listen":           "interfaces, bind interfaces only or smb ports",
	"ServerName":       "netbios name",
	"Comment":          "server string",
	"Workgroup":        "workgroup",
	"Signing":          "server signing",
	"Encryption":       "server smb encrypt",
	"MinDialect":       "server min protocol",
	"MaxDialect":       "server max protocol",
	"MultiChannel":     "server multi channel support",
	"Guest":            "map to guest",
	"Anonymous":        "restrict anonymous",
	"Keytab":           "kerberos keytab file",
	"LogLevel":         "log level",
	"Limits":           "max connections, max ip connections or max open files",
	"IdleTimeout":      "deadtime",
	"MetricsAddress":   "metrics address",
	"NoLeases":         "smb2 leases",
	"NoDurableHandles": "durable handles",
	"ControlSocket":    "cifsd:control socket",
}

// restartOnly lists the options whose value differs between the running
// and the new [global] and that only a restart applies.
func restartOnly(running, next Global) []string {
	var out []string
	rv, nv := reflect.ValueOf(running), reflect.ValueOf(next)
	for i := range rv.NumField() {
		opt, ok := globalOptionOf[rv.Type().Field(i).Name]
		if ok && !reflect.DeepEqual(rv.Field(i).Interface(), nv.Field(i).Interface()) {
			out = append(out, fmt.Sprintf("%q", opt))
		}
	}
	return out
}
