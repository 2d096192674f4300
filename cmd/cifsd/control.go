package main

// The control channel: `cifsd control reload|status` talks to the running
// daemon over a Unix socket (-control-socket, or the configuration's
// "cifsd:control socket"; default defaultControlSocket). The socket is
// made with mode 0600 in a directory made 0700, and each peer's user is
// checked (SO_PEERCRED, control_linux.go): only the daemon's own user (or
// root) is served.
//
// The protocol is one request line ("reload" or "status") and one JSON
// object in answer (controlReply), after which the daemon closes the
// connection.

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb2"
)

// defaultControlSocket is where the daemon listens for `cifsd control`
// unless told otherwise.
const defaultControlSocket = "/run/cifsd/control.sock"

// controlReply is the daemon's answer to one request.
type controlReply struct {
	// Error is set when the request failed.
	Error string `json:"error,omitempty"`
	// Reload is what a reload did.
	Reload *reloadResult `json:"reload,omitempty"`
	// Sessions are status's answer.
	Sessions []smb.SessionInfo `json:"sessions,omitempty"`
}

// controlServer serves the control socket.
type controlServer struct {
	l   net.Listener
	d   *daemon
	srv *smb.Server
	log *slog.Logger
}

// listenControl makes the control socket at path. A socket file left by
// a daemon that is gone is replaced; one a running daemon answers on is
// an error.
func listenControl(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another daemon is listening there", path)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() != os.ModeSocket {
		return nil, fmt.Errorf("control socket %s: exists and is not a socket", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// The socket is made 0600: nobody else may even connect. The umask
	// is the process's, so it is set around the bind only, before any
	// other goroutine makes files.
	old := unix.Umask(0o177)
	l, err := net.Listen("unix", path)
	unix.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return l, nil
}

// serve answers control requests until the listener is closed.
func (cs *controlServer) serve() {
	for {
		c, err := cs.l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				cs.log.Error("control socket", "err", err)
			}
			return
		}
		go cs.handle(c)
	}
}

func (cs *controlServer) handle(c net.Conn) {
	defer c.Close()
	if err := peerAllowed(c); err != nil { // control_linux.go
		cs.log.Warn("control socket: peer refused", "err", err)
		json.NewEncoder(c).Encode(&controlReply{Error: "control: permission denied (the daemon's user or root only)"})
		return
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(c, 256)).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	var rep controlReply
	switch cmd := strings.TrimSpace(line); cmd {
	case "reload":
		cs.log.Info("reload requested over the control socket")
		if res, err := cs.d.reload(); err != nil {
			rep.Error = err.Error()
		} else {
			rep.Reload = &res
		}
	case "status":
		rep.Sessions = cs.srv.Sessions()
	default:
		rep.Error = fmt.Sprintf("unknown request %q (reload or status)", cmd)
	}
	json.NewEncoder(c).Encode(&rep)
}

// runControl is `cifsd control reload|status [-config FILE | -socket PATH] [-json]`.
func runControl(args []string, stdout, stderr io.Writer) error {
	usage := "usage: cifsd control reload|status [-config FILE | -socket PATH] [-json]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New(usage)
	}
	cmd := args[0]
	if cmd != "reload" && cmd != "status" {
		return fmt.Errorf("control %s: %s", cmd, usage)
	}
	fs := flag.NewFlagSet("control "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "the daemon's configuration file (for its cifsd:control socket)")
	socket := fs.String("socket", "", "the daemon's control socket (default "+defaultControlSocket+")")
	asJSON := fs.Bool("json", false, "print the daemon's answer as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	path := *socket
	if path == "" && *configFile != "" {
		cfg, err := loadConfig(*configFile)
		if err != nil {
			return err
		}
		path = cfg.Global.ControlSocket
	}
	if path == "" {
		path = defaultControlSocket
	}
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return fmt.Errorf("control: is the daemon running? %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := fmt.Fprintln(c, cmd); err != nil {
		return fmt.Errorf("control: %w", err)
	}
	raw, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	var rep controlReply
	if err := json.Unmarshal(raw, &rep); err != nil {
		return fmt.Errorf("control: bad answer from the daemon: %w", err)
	}
	if rep.Error != "" {
		return errors.New(rep.Error)
	}
	if *asJSON {
		_, err := stdout.Write(raw)
		return err
	}
	if cmd == "reload" {
		for _, w := range rep.Reload.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		fmt.Fprintf(stdout, "reloaded: %d shares, %d users\n", rep.Reload.Shares, rep.Reload.Users)
		return nil
	}
	printStatus(stdout, rep.Sessions)
	return nil
}

// printStatus prints sessions, tree connects and open files as smbstatus
// does: one table each.
func printStatus(w io.Writer, sessions []smb.SessionInfo) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Session\tUser\tClient\tProtocol\tSigning\tEncryption")
	for _, s := range sessions {
		signing, enc := "-", "-"
		if s.Signed {
			signing = signingName(s.SigningAlgorithm)
		}
		if s.Encrypted {
			enc = cipherName(s.Cipher)
		}
		fmt.Fprintf(tw, "%#x\t%s\t%s\t%s\t%s\t%s\n", s.ID, userName(s), s.Client, dialectName(s.Dialect), signing, enc)
	}
	fmt.Fprintln(tw, "\nSession\tTree\tShare\tUser\tEncrypted")
	for _, s := range sessions {
		for _, t := range s.Trees {
			fmt.Fprintf(tw, "%#x\t%d\t%s\t%s\t%s\n", s.ID, t.ID, t.Share, userName(s), yesNo(t.Encrypted))
		}
	}
	fmt.Fprintln(tw, "\nSession\tUser\tShare\tPath\tAccess\tShare mode\tCaching\tDurable")
	for _, s := range sessions {
		for _, o := range s.Opens {
			p := o.Path
			if p == "." {
				p = ""
			}
			if o.Stream != "" {
				p += ":" + o.Stream
			}
			fmt.Fprintf(tw, "%#x\t%s\t%s\t/%s\t%#x\t%s\t%s\t%s\n", s.ID, userName(s), o.Share, p, o.GrantedAccess,
				shareMode(o.ShareAccess), caching(o), yesNo(o.Durable))
		}
	}
	tw.Flush()
}

func userName(s smb.SessionInfo) string {
	switch {
	case s.Anonymous:
		return "(anonymous)"
	case s.Guest:
		return "(guest) " + s.User
	case s.Domain != "":
		return s.Domain + `\` + s.User
	}
	return s.User
}

// shareMode is smbstatus's DenyMode column: what the open lets others do.
func shareMode(a uint32) string {
	var l []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{{smb2.FileShareRead, "READ"}, {smb2.FileShareWrite, "WRITE"}, {smb2.FileShareDelete, "DELETE"}} {
		if a&b.bit != 0 {
			l = append(l, b.name)
		}
	}
	if len(l) == 0 {
		return "NONE"
	}
	return strings.Join(l, "|")
}

// caching names an open's lease ("lease RWH") or oplock ("oplock R"...).
func caching(o smb.SessionOpen) string {
	var b strings.Builder
	for _, c := range []struct {
		bit uint32
		ch  byte
	}{{smb2.LeaseReadCaching, 'R'}, {smb2.LeaseWriteCaching, 'W'}, {smb2.LeaseHandleCaching, 'H'}} {
		if o.Caching&c.bit != 0 {
			b.WriteByte(c.ch)
		}
	}
	switch {
	case o.Leased:
		return "lease " + b.String()
	case b.Len() > 0:
		return "oplock " + b.String()
	}
	return "-"
}

func dialectName(d uint16) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("SMB%d.%d.%d", d>>8, d>>4&0xf, d&0xf)
}

func signingName(a uint16) string {
	switch a {
	case smb2.SigningHMACSHA256:
		return "HMAC-SHA256"
	case smb2.SigningAESCMAC:
		return "AES-128-CMAC"
	case smb2.SigningAESGMAC:
		return "AES-128-GMAC"
	}
	return fmt.Sprintf("%#x", a)
}

func cipherName(c uint16) string {
	switch c {
	case smb2.CipherAES128CCM:
		return "AES-128-CCM"
	case smb2.CipherAES128GCM:
		return "AES-128-GCM"
	case smb2.CipherAES256CCM:
		return "AES-256-CCM"
	case smb2.CipherAES256GCM:
		return "AES-256-GCM"
	}
	return "yes"
}

// serveControl serves the control socket at path ("" or "off": none) in
// the background; stop closes it and removes the socket file. When the
// path was not chosen (the default) and cannot be used, the daemon runs
// without one and says so; a chosen path that fails is an error.
func (d *daemon) serveControl(srv *smb.Server, path string, chosen bool) (stop func(), err error) {
	if path == "" || path == "off" {
		return func() {}, nil
	}
	l, err := listenControl(path)
	if err != nil {
		if chosen {
			return nil, err
		}
		d.log.Warn("no control socket: `cifsd control` cannot reach this daemon (see -control-socket)", "err", err)
		return func() {}, nil
	}
	cs := &controlServer{l: l, d: d, srv: srv, log: d.log}
	go cs.serve()
	d.log.Info("control socket", "path", path)
	return func() { l.Close() }, nil
}

// controlSocketSet reports whether the file names a control socket.
func (c *Config) controlSocketSet() bool { return c != nil && c.Global.ControlSocket != "" }

// given reports whether the flag name was set on the command line.
func given(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
