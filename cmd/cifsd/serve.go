package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/krb"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/vfs"
	"golang.org/x/sys/unix"
)

//go:embed defaultshare
var defaultShare embed.FS

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// run is the daemon: flags, then the configuration file if any (flags
// given explicitly win over it), then serve until SIGINT or SIGTERM.
func run(args []string) error {
	fl := flag.NewFlagSet("cifsd", flag.ContinueOnError)
	var shares, users, memShares listFlag
	configFile := fl.String("config", "", "configuration file (smb.conf syntax; flags override it)")
	showVersion := fl.Bool("version", false, "print the version and exit")
	listen := fl.String("listen", ":445", "TCP address to listen on")
	fl.Var(&shares, "share", "share to serve, NAME=DIR (repeatable)")
	fl.Var(&memShares, "mem-share", "empty in-memory share to serve, NAME (repeatable; contents are lost on exit)")
	fl.Var(&users, "user", "user allowed to log in, NAME:PASSWORD (repeatable)")
	guest := fl.Bool("guest", false, "admit unknown users as guest to every share")
	anonymous := fl.Bool("anonymous", false, "admit null sessions (share listing over IPC$; shares only with -guest)")
	readOnly := fl.Bool("read-only", false, "serve every share read-only")
	signing := fl.String("signing", "required", "signing policy: required or enabled")
	encrypt := fl.String("encrypt", "desired", "encryption policy: desired, required or off")
	multichannel := fl.Bool("multichannel", true, "let SMB 3.x clients bind more connections to a session")
	dirLeases := fl.Bool("dir-leases", true, "grant SMB 3.x clients leases on directories (they cache listings)")
	keyLog := fl.String("keylog", "", "append session keys to FILE for Wireshark (debugging only)")
	name := fl.String("name", "CIFSD", "NetBIOS server name")
	logLevel := fl.String("log-level", "info", "log level: debug, info, warn or error")
	keytabFile := fl.String("keytab", "", "accept Kerberos tickets for the service keys in FILE (next to -user's NTLM users)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Println(version())
		return nil
	}
	set := map[string]bool{}
	fl.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// The file's settings replace the flags' defaults, not flags given.
	var cfg *Config
	var shareList []smb.Share
	hashes := make(map[string][]byte)
	listens := []string{*listen}
	if *configFile != "" {
		var err error
		if cfg, err = loadConfig(*configFile); err != nil {
			return err
		}
		g := &cfg.Global
		str := func(flagName string, dst *string, v string) {
			if !set[flagName] && v != "" {
				*dst = v
			}
		}
		str("name", name, g.ServerName)
		str("log-level", logLevel, g.LogLevel)
		str("keytab", keytabFile, g.Keytab)
		if !set["listen"] && len(g.Listen) > 0 {
			listens = g.Listen
		}
		if !set["signing"] && g.Signing != nil {
			*signing = map[smb.SigningPolicy]string{smb.SigningRequired: "required", smb.SigningEnabled: "enabled"}[*g.Signing]
		}
		if !set["encrypt"] && g.Encryption != nil {
			*encrypt = [...]string{"desired", "required", "off"}[*g.Encryption]
		}
		if !set["multichannel"] && g.MultiChannel != nil {
			*multichannel = *g.MultiChannel
		}
		if !set["guest"] {
			*guest = g.Guest
		}
		if !set["anonymous"] && g.Anonymous != nil {
			*anonymous = *g.Anonymous
		}
		if shareList, err = cfg.openShares(); err != nil {
			return err
		}
		if hashes, err = cfg.loadUsers(); err != nil {
			return err
		}
		// Like smbd: the masks and forced modes decide new files' modes,
		// not the umask the daemon happened to start with.
		unix.Umask(0)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if cfg != nil {
		for _, w := range cfg.Warnings {
			log.Warn(w)
		}
		log.Info("configuration loaded", "file", cfg.File, "shares", len(shareList), "users", len(hashes))
	}

	srv := &smb.Server{ServerName: *name, Logger: log}
	if cfg != nil {
		srv.Comment = cfg.Global.Comment
		srv.MinDialect, srv.MaxDialect = cfg.Global.MinDialect, cfg.Global.MaxDialect
	}
	switch *signing {
	case "required":
		srv.Signing = smb.SigningRequired
	case "enabled":
		srv.Signing = smb.SigningEnabled
	default:
		return fmt.Errorf("-signing: %q is not required or enabled", *signing)
	}
	switch *encrypt {
	case "desired":
		srv.Encryption = smb.EncryptionDesired
	case "required":
		srv.Encryption = smb.EncryptionRequired
	case "off":
		srv.Encryption = smb.EncryptionOff
	default:
		return fmt.Errorf("-encrypt: %q is not desired, required or off", *encrypt)
	}
	if *keyLog != "" {
		f, err := os.OpenFile(*keyLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("-keylog: %w", err)
		}
		defer f.Close()
		srv.KeyLog = f
		log.Warn("writing session keys", "file", *keyLog)
	}
	// -share and -mem-share add shares, replacing a file's share of the
	// same name.
	addShare := func(sh smb.Share) {
		for i := range shareList {
			if strings.EqualFold(shareList[i].Name, sh.Name) {
				shareList[i] = sh
				return
			}
		}
		shareList = append(shareList, sh)
	}
	for _, s := range shares {
		n, dir, ok := strings.Cut(s, "=")
		if !ok || n == "" || dir == "" {
			return fmt.Errorf("-share %q: want NAME=DIR", s)
		}
		fsys, err := vfs.Dir(dir)
		if err != nil {
			return fmt.Errorf("-share %s: %w", n, err)
		}
		addShare(smb.Share{Name: n, FS: fsys, Guest: *guest})
	}
	for _, n := range memShares {
		if n == "" {
			return fmt.Errorf("-mem-share: empty name")
		}
		addShare(smb.Share{Name: n, FS: vfs.NewMem(), Guest: *guest, Comment: "in-memory share"})
	}
	if len(shareList) == 0 && cfg == nil {
		seed, err := fs.Sub(defaultShare, "defaultshare")
		if err != nil {
			return err
		}
		mem, err := vfs.NewMemFromFS(seed)
		if err != nil {
			return fmt.Errorf("default share: %w", err)
		}
		addShare(smb.Share{Name: "share", FS: mem, Guest: *guest, Comment: "in-memory share"})
	}
	if *readOnly {
		for i := range shareList {
			shareList[i].ReadOnly = true
		}
	}
	srv.Shares = shareList
	for _, u := range users {
		n, pw, ok := strings.Cut(u, ":")
		if !ok || n == "" {
			return fmt.Errorf("-user %q: want NAME:PASSWORD", u)
		}
		hashes[n] = ntlm.NTHash(pw)
	}
	mech := ntlm.Users(ntlm.NTHashes(hashes))
	mech.AllowGuest = *guest
	mech.AllowAnonymous = *anonymous
	srv.AllowAnonymous = *anonymous
	srv.DisableMultiChannel = !*multichannel
	srv.DisableDirectoryLeasing = !*dirLeases
	mech.ServerName = *name
	if cfg != nil && cfg.Global.Workgroup != "" {
		mech.DomainName = cfg.Global.Workgroup
	}
	mechs := []auth.Mechanism{mech}
	if *keytabFile != "" {
		kt, err := krb.LoadKeytab(*keytabFile)
		if err != nil {
			return err
		}
		k := krb.New(kt)
		k.Logger = log
		// Kerberos first: clients that can use it should.
		mechs = []auth.Mechanism{k, mech}
	}
	srv.Auth = auth.Negotiate(mechs...)
	if len(hashes) == 0 && !*guest && *keytabFile == "" {
		log.Warn("no users (-user or the user database) and guests not admitted: nobody can log in")
	}

	var ls []net.Listener
	for _, a := range listens {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return err
		}
		ls = append(ls, l)
		log.Info("serving", "addr", l.Addr().String(), "shares", len(srv.Shares))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() { errc <- srv.Serve(l) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// openShares opens each share's directory and resolves its groups: the
// []smb.Share a Server serves. Run again, it gives the shares of a reload.
func (c *Config) openShares() ([]smb.Share, error) {
	groups, err := loadGroups(c.Global.GroupFile)
	if err != nil {
		return nil, err
	}
	out := make([]smb.Share, 0, len(c.Shares))
	for _, sc := range c.Shares {
		sh := sc.Share
		fsys, err := vfs.Dir(sc.Path)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: share [%s]: %w", c.File, sc.Line, sc.Name, err)
		}
		sh.FS = fsys
		sh.InGroup = groups.inGroup
		out = append(out, sh)
	}
	return out, nil
}
