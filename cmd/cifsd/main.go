// Command cifsd is a small SMB2/3 file server.
//
// Usage:
//
//	cifsd [-config FILE] [-listen ADDR] [-share NAME=DIR]... [-user NAME:PASSWORD]... [-admin NAME]...
//	cifsd config check FILE
//	cifsd user add|delete|passwd|list [-config FILE] [-db FILE] [-stdin] [NAME]
//	cifsd -version
//
// -config reads an smb.conf-style file (Samba's and ksmbd's syntax; see
// examples/cifsd.conf): its [global] options set the server, its sections
// are shares, and its users come from the database named by "smb passwd
// file" (ksmbdpwd.db format, maintained by `cifsd user`). Flags given on
// the command line override the file.
//
// With neither -config nor -share it serves an in-memory share named
// "share", seeded with a README. Users are given with -user; with none,
// only guest access is possible, and only when -guest is set.
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
)

//go:embed defaultshare
var defaultShare embed.FS

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "user":
		err = runUser(os.Args[2:], os.Stdin, os.Stdout, os.Stderr) // user.go
	case len(os.Args) > 1 && os.Args[1] == "config":
		err = runConfig(os.Args[2:], os.Stdout, os.Stderr) // config_check.go
	default:
		err = run()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cifsd:", err)
		os.Exit(1)
	}
}

func run() error {
	var shares, users listFlag
	configFile := flag.String("config", "", "configuration file (smb.conf syntax; flags given override it)")
	showVersion := flag.Bool("version", false, "print the version and exit")
	listen := flag.String("listen", ":445", "TCP address to listen on")
	flag.Var(&shares, "share", "share to serve, NAME=DIR (repeatable)")
	var memShares listFlag
	flag.Var(&memShares, "mem-share", "empty in-memory share to serve, NAME (repeatable; contents are lost on exit)")
	flag.Var(&users, "user", "user allowed to log in, NAME:PASSWORD (repeatable)")
	var admins listFlag
	flag.Var(&admins, "admin", "user who administers the server over srvsvc (lists and closes sessions and open files), NAME (repeatable)")
	guest := flag.Bool("guest", false, "admit unknown users as guest to every share")
	anonymous := flag.Bool("anonymous", false, "admit null sessions (share listing over IPC$; shares only with -guest)")
	readOnly := flag.Bool("read-only", false, "serve every share read-only")
	signing := flag.String("signing", "required", "signing policy: required or enabled")
	encrypt := flag.String("encrypt", "desired", "encryption policy: desired, required or off")
	multichannel := flag.Bool("multichannel", true, "let SMB 3.x clients bind more connections to a session")
	dirLeases := flag.Bool("dir-leases", true, "grant SMB 3.x clients leases on directories (they cache listings)")
	keyLog := flag.String("keylog", "", "append session keys to FILE for Wireshark (debugging only)")
	name := flag.String("name", "CIFSD", "NetBIOS server name")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn or error")
	keytabFile := flag.String("keytab", "", "accept Kerberos tickets for the service keys in FILE (next to -user's NTLM users)")
	limits := addLimitFlags(flag.CommandLine) // limits.go
	flag.Parse()

	if *showVersion {
		fmt.Println(version()) // version.go
		return nil
	}
	// The file's settings replace the defaults of the flags not given.
	cfg, extraListen, err := applyConfigFile(*configFile, fileTargets{ // config.go
		name: name, logLevel: logLevel, keytab: keytabFile, listen: listen, signing: signing,
		encrypt: encrypt, multichannel: multichannel, guest: guest, anonymous: anonymous,
	})
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(logHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	srv := &smb.Server{ServerName: *name, Logger: log}
	cfgShares, cfgUsers, err := cfg.apply(srv, log) // config.go
	if err != nil {
		return err
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
	for _, s := range shares {
		n, dir, ok := strings.Cut(s, "=")
		if !ok || n == "" || dir == "" {
			return fmt.Errorf("-share %q: want NAME=DIR", s)
		}
		fsys, err := vfs.Dir(dir)
		if err != nil {
			return fmt.Errorf("-share %s: %w", n, err)
		}
		srv.Shares = append(srv.Shares, smb.Share{Name: n, FS: fsys, ReadOnly: *readOnly, Guest: *guest})
	}
	for _, n := range memShares {
		if n == "" {
			return fmt.Errorf("-mem-share: empty name")
		}
		srv.Shares = append(srv.Shares, smb.Share{Name: n, FS: vfs.NewMem(), ReadOnly: *readOnly, Guest: *guest,
			Comment: "in-memory share"})
	}
	srv.Shares = cfg.mergeShares(cfgShares, srv.Shares, *readOnly) // the flags' replace the file's
	if len(srv.Shares) == 0 && cfg == nil {
		seed, err := fs.Sub(defaultShare, "defaultshare")
		if err != nil {
			return err
		}
		mem, err := vfs.NewMemFromFS(seed)
		if err != nil {
			return fmt.Errorf("default share: %w", err)
		}
		srv.Shares = append(srv.Shares, smb.Share{Name: "share", FS: mem, ReadOnly: *readOnly, Guest: *guest,
			Comment: "in-memory share"})
	}
	passwords := make(map[string]string)
	for _, u := range users {
		n, pw, ok := strings.Cut(u, ":")
		if !ok || n == "" {
			return fmt.Errorf("-user %q: want NAME:PASSWORD", u)
		}
		passwords[n] = pw
		srv.Accounts.Users = append(srv.Accounts.Users, n)
	}
	for n := range cfgUsers {
		if _, dup := passwords[n]; !dup {
			srv.Accounts.Users = append(srv.Accounts.Users, n)
		}
	}
	srv.Accounts.Admins = admins
	groups, err := cfg.accountGroups(srv.Accounts.Users) // groups.go
	if err != nil {
		return err
	}
	srv.Accounts.Groups = groups
	mech := ntlm.Users(userStore(cfgUsers, passwords)) // config.go
	mech.AllowGuest = *guest
	mech.DomainName = cfg.workgroup()
	mech.AllowAnonymous = *anonymous
	srv.AllowAnonymous = *anonymous
	srv.DisableMultiChannel = !*multichannel
	srv.DisableDirectoryLeasing = !*dirLeases
	mech.ServerName = *name
	limits.apply(srv, mech, log)
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
	if len(passwords)+len(cfgUsers) == 0 && !*guest && *keytabFile == "" {
		log.Warn("no users (-user or the user database) and guests not admitted: nobody can log in")
	}

	if err := serveObservability(srv, log); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	log.Info("serving", "addr", l.Addr().String(), "shares", len(srv.Shares))
	extra, err := listenAll(extraListen, log) // config.go
	if err != nil {
		l.Close()
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopDiscovery, err := startDiscovery(ctx, l.Addr(), log)
	if err != nil {
		return err
	}
	defer stopDiscovery()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	serveAll(srv, extra, errc) // config.go
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
