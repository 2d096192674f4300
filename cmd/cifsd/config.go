package main

// The configuration file (-config): smb.conf syntax (internal/smbconf),
// mapped onto the daemon's settings and smb.Share. loadConfig is a pure
// function of the file (and of the group file it names), so it can be run
// again to reload.

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/cifsd/cifsd/internal/smbconf"
	"github.com/cifsd/cifsd/internal/userdb"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// Config is what a configuration file sets.
type Config struct {
	// File is the configuration file read.
	File string
	// Global holds the [global] settings.
	Global Global
	// Shares are the disk shares, in file order; ShareConf.Share has no FS
	// yet (openShares opens them).
	Shares []ShareConf
	// Warnings name each option that was not applied, by file and line.
	Warnings []string

	// shown is what `cifsd config check` prints: per section the options
	// applied, canonical name -> value as Samba's testparm prints it.
	shown map[string]*shownSection
	line  int // of the option being applied, for warnings
}

// Global are the [global] settings; the zero value is cifsd's default.
type Global struct {
	// Listen are the TCP addresses to listen on (from interfaces, bind
	// interfaces only and smb ports); empty: the -listen flag's.
	Listen     []string
	ServerName string // netbios name
	Comment    string // server string
	Workgroup  string
	Signing    *smb.SigningPolicy    // server signing; nil: not set
	Encryption *smb.EncryptionPolicy // (server) smb encrypt; nil: not set
	MinDialect uint16                // server min protocol
	MaxDialect uint16                // server max protocol
	// MultiChannel is server multi channel support (nil: not set).
	MultiChannel *bool
	// Guest admits unknown users as guest (map to guest = bad user).
	Guest bool
	// Anonymous admits null sessions (restrict anonymous = 0).
	Anonymous *bool
	Keytab    string // kerberos keytab file
	// LogLevel is log level mapped onto slog ("" when not set).
	LogLevel string
	// PasswdFile is the user database (smb passwd file).
	PasswdFile string
	// GroupFile is where @group members are looked up (cifsd:group file,
	// /etc/group syntax).
	GroupFile string
	// DisableDFS is host msdfs = no (config_dfs.go).
	DisableDFS bool
}

// ShareConf is one share section.
type ShareConf struct {
	smb.Share
	// Path is the directory served.
	Path string
	// Line is the section header's line.
	Line int
}

type shownSection struct {
	name  string
	order []string
	vals  map[string]string
}

func (s *shownSection) set(name, value string) {
	if _, ok := s.vals[name]; !ok {
		s.order = append(s.order, name)
	}
	s.vals[name] = value
}

// Samba's default create mask and directory mask.
const (
	defaultCreateMask    = 0o744
	defaultDirectoryMask = 0o755
)

// defaultGroupFile is where @group members come from unless the
// configuration names another file with "cifsd:group file".
const defaultGroupFile = "/etc/group"

// loadConfig reads and interprets the configuration file path.
func loadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	file, err := smbconf.Parse(path, f)
	if err != nil {
		return nil, err
	}
	return interpret(file)
}

// interpret maps a parsed file onto a Config.
func interpret(file *smbconf.File) (*Config, error) {
	c := &Config{File: file.Name, shown: make(map[string]*shownSection)}
	c.Global.PasswdFile = userdb.DefaultPath
	c.Global.GroupFile = defaultGroupFile
	// Share options in [global] are the defaults of every share, as in
	// Samba; the defaults below are Samba's.
	tmpl := ShareConf{Share: smb.Share{ReadOnly: true, CreateMask: defaultCreateMask, DirectoryMask: defaultDirectoryMask}}
	var net netSettings
	if g := file.Section("global"); g != nil {
		sh := c.section("global")
		for _, p := range g.Params {
			c.line = p.Line
			o := globalOptions[smbconf.Key(p.Name)]
			if o == nil {
				if so := shareOptions[smbconf.Key(p.Name)]; so != nil {
					if err := c.applyShare(so, p, &tmpl, sh); err != nil {
						return nil, err
					}
				} else {
					c.unknown(p)
				}
				continue
			}
			v, err := o.set(c, &net, p.Value)
			if err != nil {
				return nil, c.bad(p, err)
			}
			if v != "" {
				sh.set(o.name, v)
			}
		}
	}
	listen, err := net.addresses()
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", file.Name, net.line, err)
	}
	c.Global.Listen = listen
	for _, s := range file.Sections {
		switch strings.ToLower(s.Name) {
		case "global":
			continue
		case "homes", "printers", "print$", "ipc$":
			c.warn(s.Line, fmt.Sprintf("section [%s] is not supported by cifsd; ignored", s.Name))
			continue
		}
		sc := tmpl
		sc.Name, sc.Line = s.Name, s.Line
		sh := c.section(s.Name)
		for _, p := range s.Params {
			c.line = p.Line
			o := shareOptions[smbconf.Key(p.Name)]
			if o == nil {
				if globalOptions[smbconf.Key(p.Name)] != nil {
					c.warn(p.Line, fmt.Sprintf("global option %q in share [%s]; ignored", p.Name, s.Name))
				} else {
					c.unknown(p)
				}
				continue
			}
			if err := c.applyShare(o, p, &sc, sh); err != nil {
				return nil, err
			}
		}
		if sc.Path == "" {
			c.warn(s.Line, fmt.Sprintf("share [%s] has no path; ignored", s.Name))
			delete(c.shown, strings.ToLower(s.Name))
			continue
		}
		c.Shares = append(c.Shares, sc)
	}
	return c, nil
}

func (c *Config) section(name string) *shownSection {
	k := strings.ToLower(name)
	if s := c.shown[k]; s != nil {
		return s
	}
	s := &shownSection{name: name, vals: make(map[string]string)}
	c.shown[k] = s
	return s
}

func (c *Config) applyShare(o *shareOption, p smbconf.Param, sc *ShareConf, sh *shownSection) error {
	v, err := o.set(c, p, sc, p.Value)
	if err != nil {
		return c.bad(p, err)
	}
	if v != "" {
		sh.set(o.name, v)
	}
	return nil
}

func (c *Config) warn(line int, msg string) {
	c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d: %s", c.File, line, msg))
}

func (c *Config) unknown(p smbconf.Param) {
	c.warn(p.Line, fmt.Sprintf("unknown or unsupported option %q; ignored", p.Name))
}

func (c *Config) bad(p smbconf.Param, err error) error {
	return fmt.Errorf("%s:%d: %s: %w", c.File, p.Line, p.Name, err)
}

// ------------------------------------------------------------ [global]

// netSettings gathers the options that decide the listening addresses.
type netSettings struct {
	line       int // of the last option among them, for errors
	interfaces []string
	bindOnly   bool
	ports      []int
}

// addresses are the listening addresses: with bind interfaces only, each
// interface's addresses (an interface name, an address, or an
// address/prefix) on each port; otherwise every address on each port.
func (n *netSettings) addresses() ([]string, error) {
	if len(n.ports) == 0 && !n.bindOnly {
		return nil, nil
	}
	ports := n.ports
	if len(ports) == 0 {
		ports = []int{445}
	}
	hosts := []string{""}
	if n.bindOnly {
		hosts = nil
		for _, i := range n.interfaces {
			ips, err := interfaceIPs(i)
			if err != nil {
				return nil, fmt.Errorf("interfaces: %w", err)
			}
			hosts = append(hosts, ips...)
		}
		if len(hosts) == 0 {
			return nil, fmt.Errorf("bind interfaces only = yes without interfaces")
		}
	}
	var out []string
	for _, h := range hosts {
		for _, p := range ports {
			out = append(out, net.JoinHostPort(h, strconv.Itoa(p)))
		}
	}
	return out, nil
}

// interfaceIPs resolves one "interfaces" entry to addresses.
func interfaceIPs(spec string) ([]string, error) {
	if ip, _, err := net.ParseCIDR(spec); err == nil {
		return []string{ip.String()}, nil
	}
	if ip := net.ParseIP(spec); ip != nil {
		return []string{ip.String()}, nil
	}
	ifi, err := net.InterfaceByName(spec)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", spec, err)
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
			out = append(out, ipn.IP.String())
		}
	}
	return out, nil
}

type globalOption struct {
	name string
	// set applies value; it returns the value as config check shows it
	// ("" when the option was not applied).
	set func(c *Config, n *netSettings, v string) (string, error)
}

var globalOptions = map[string]*globalOption{}

func addGlobal(o *globalOption, aliases ...string) {
	for _, n := range append([]string{o.name}, aliases...) {
		globalOptions[smbconf.Key(n)] = o
	}
}

// notYet is set for options that map onto smb.Server fields which do not
// exist yet: a warning, no effect.
func notYet(name string) *globalOption {
	return &globalOption{name: name, set: func(c *Config, _ *netSettings, v string) (string, error) {
		c.pendingWarn(name, "not yet supported")
		return "", nil
	}}
}

// pendingWarn records a warning for the option being applied (at c.line).
func (c *Config) pendingWarn(name, why string) {
	c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d: option %q: %s; ignored", c.File, c.line, name, why))
}

func init() {
	str := func(name string, dst func(*Global) *string) *globalOption {
		return &globalOption{name: name, set: func(c *Config, _ *netSettings, v string) (string, error) {
			*dst(&c.Global) = v
			return v, nil
		}}
	}
	addGlobal(str("netbios name", func(g *Global) *string { return &g.ServerName }))
	addGlobal(str("server string", func(g *Global) *string { return &g.Comment }))
	addGlobal(str("workgroup", func(g *Global) *string { return &g.Workgroup }))
	addGlobal(str("kerberos keytab file", func(g *Global) *string { return &g.Keytab }))
	addGlobal(str("smb passwd file", func(g *Global) *string { return &g.PasswdFile }))
	addGlobal(str("cifsd:group file", func(g *Global) *string { return &g.GroupFile }))
	addGlobal(&globalOption{name: "server min protocol", set: func(c *Config, _ *netSettings, v string) (string, error) {
		d, err := dialect(v, false)
		if err != nil || d == 0 {
			return "", err
		}
		c.Global.MinDialect = d
		return strings.ToUpper(v), nil
	}}, "min protocol")
	addGlobal(&globalOption{name: "server max protocol", set: func(c *Config, _ *netSettings, v string) (string, error) {
		d, err := dialect(v, true)
		if err != nil || d == 0 {
			return "", err
		}
		c.Global.MaxDialect = d
		return strings.ToUpper(v), nil
	}}, "max protocol", "protocol")
	addGlobal(&globalOption{name: "server signing", set: func(c *Config, _ *netSettings, v string) (string, error) {
		var p smb.SigningPolicy
		switch strings.ToLower(v) {
		case "mandatory", "required":
			p = smb.SigningRequired
		case "auto", "default", "enabled", "if_required", "desired":
			p = smb.SigningEnabled
		case "disabled", "no", "off":
			c.pendingWarn("server signing", "SMB2 signing cannot be switched off; treated as \"auto\"")
			p = smb.SigningEnabled
		default:
			return "", fmt.Errorf("%q is not mandatory, auto or disabled", v)
		}
		c.Global.Signing = &p
		if p == smb.SigningRequired {
			return "mandatory", nil
		}
		return "auto", nil
	}})
	addGlobal(&globalOption{name: "server smb encrypt", set: func(c *Config, _ *netSettings, v string) (string, error) {
		p, err := encryption(v)
		if err != nil {
			return "", err
		}
		c.Global.Encryption = &p
		return [...]string{"desired", "required", "off"}[p], nil
	}}, "smb encrypt")
	addGlobal(&globalOption{name: "server multi channel support", set: func(c *Config, _ *netSettings, v string) (string, error) {
		b, err := smbconf.ParseBool(v)
		if err != nil {
			return "", err
		}
		c.Global.MultiChannel = &b
		return yesNo(b), nil
	}})
	addGlobal(&globalOption{name: "smb2 leases", set: func(c *Config, _ *netSettings, v string) (string, error) {
		b, err := smbconf.ParseBool(v)
		if err != nil {
			return "", err
		}
		if !b {
			c.pendingWarn("smb2 leases", "leases cannot be switched off server-wide (use oplocks = no on a share)")
			return "", nil
		}
		return yesNo(b), nil
	}})
	addGlobal(&globalOption{name: "durable handles", set: func(c *Config, _ *netSettings, v string) (string, error) {
		b, err := smbconf.ParseBool(v)
		if err != nil {
			return "", err
		}
		if !b {
			c.pendingWarn("durable handles", "durable handles cannot be switched off")
			return "", nil
		}
		return yesNo(b), nil
	}})
	addGlobal(&globalOption{name: "interfaces", set: func(c *Config, n *netSettings, v string) (string, error) {
		n.line = c.line
		n.interfaces = smbconf.SplitList(v)
		return strings.Join(n.interfaces, " "), nil
	}})
	addGlobal(&globalOption{name: "bind interfaces only", set: func(c *Config, n *netSettings, v string) (string, error) {
		n.line = c.line
		b, err := smbconf.ParseBool(v)
		n.bindOnly = b
		return yesNo(b), err
	}})
	addGlobal(&globalOption{name: "smb ports", set: func(c *Config, n *netSettings, v string) (string, error) {
		n.ports = nil
		for _, f := range smbconf.SplitList(v) {
			p, err := strconv.Atoi(f)
			if err != nil || p < 1 || p > 65535 {
				return "", fmt.Errorf("%q is not a port", f)
			}
			if p == 139 {
				c.pendingWarn("smb ports", "port 139 (NetBIOS session service) is not served")
				continue
			}
			n.ports = append(n.ports, p)
		}
		return strings.Trim(fmt.Sprint(n.ports), "[]"), nil
	}}, "tcp port") // ksmbd.conf's name
	addGlobal(&globalOption{name: "map to guest", set: func(c *Config, _ *netSettings, v string) (string, error) {
		switch strings.ToLower(v) {
		case "never":
			c.Global.Guest = false
			return "Never", nil
		case "bad user":
			c.Global.Guest = true
			return "Bad User", nil
		case "bad password", "bad uid":
			c.pendingWarn("map to guest", "only \"bad user\" is supported; treated as \"bad user\"")
			c.Global.Guest = true
			return "Bad User", nil
		}
		return "", fmt.Errorf("%q is not never, bad user or bad password", v)
	}})
	addGlobal(&globalOption{name: "guest account", set: func(c *Config, _ *netSettings, v string) (string, error) {
		c.pendingWarn("guest account", "cifsd's guest sessions map to no Unix account")
		return "", nil
	}})
	addGlobal(&globalOption{name: "restrict anonymous", set: func(c *Config, _ *netSettings, v string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 2 {
			return "", fmt.Errorf("%q is not 0, 1 or 2", v)
		}
		a := n == 0
		c.Global.Anonymous = &a
		return v, nil
	}})
	addGlobal(&globalOption{name: "log level", set: func(c *Config, _ *netSettings, v string) (string, error) {
		first, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		n, err := strconv.Atoi(first)
		if err != nil || n < 0 {
			return "", fmt.Errorf("%q does not start with a level (0-10)", v)
		}
		c.Global.LogLevel = [...]string{"error", "warn", "info", "debug"}[min(n, 3)]
		return first, nil
	}}, "debug level")
	// Limits of smb.Server that do not exist yet (see ARCHITECTURE.md).
	// "max connections" in [global] is the server-wide limit here, not
	// every share's default as in Samba.
	for _, n := range []string{"max connections", "max ip connections", "max open files", "deadtime"} {
		addGlobal(notYet(n))
	}
}

// dialect maps a Samba protocol name onto an SMB2 dialect; 0 with no error
// for SMB1 names below SMB2 (a warning: cifsd serves SMB2 and later).
func dialect(v string, max bool) (uint16, error) {
	switch strings.ToUpper(v) {
	case "SMB2_02":
		return smb2.Dialect202, nil
	case "SMB2_10":
		return smb2.Dialect210, nil
	case "SMB2":
		if max {
			return smb2.Dialect210, nil
		}
		return smb2.Dialect202, nil
	case "SMB3_00":
		return smb2.Dialect300, nil
	case "SMB3_02":
		return smb2.Dialect302, nil
	case "SMB3_11":
		return smb2.Dialect311, nil
	case "SMB3":
		if max {
			return smb2.Dialect311, nil
		}
		return smb2.Dialect300, nil
	case "NT1", "LANMAN1", "LANMAN2", "CORE", "COREPLUS":
		return 0, nil
	}
	return 0, fmt.Errorf("%q is not a protocol (SMB2_02 ... SMB3_11)", v)
}

func encryption(v string) (smb.EncryptionPolicy, error) {
	switch strings.ToLower(v) {
	case "required", "mandatory", "force":
		return smb.EncryptionRequired, nil
	case "desired", "if_required", "enabled", "auto", "default", "yes", "true", "on":
		return smb.EncryptionDesired, nil
	case "off", "disabled", "no", "false":
		return smb.EncryptionOff, nil
	}
	return 0, fmt.Errorf("%q is not required, desired or off", v)
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// ------------------------------------------------------------ shares

type shareOption struct {
	name string
	set  func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error)
}

var shareOptions = map[string]*shareOption{}

func addShare(o *shareOption, aliases ...string) {
	for _, n := range append([]string{o.name}, aliases...) {
		shareOptions[smbconf.Key(n)] = o
	}
}

func init() {
	boolOpt := func(name string, dst func(*ShareConf) *bool, invert bool) *shareOption {
		return &shareOption{name: name, set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
			b, err := smbconf.ParseBool(v)
			if err != nil {
				return "", err
			}
			*dst(s) = b != invert
			return yesNo(b), nil
		}}
	}
	listOpt := func(name string, dst func(*ShareConf) *[]string) *shareOption {
		return &shareOption{name: name, set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
			l := smbconf.SplitList(v)
			*dst(s) = l
			return strings.Join(l, ", "), nil
		}}
	}
	slashOpt := func(name string, dst func(*ShareConf) *[]string) *shareOption {
		return &shareOption{name: name, set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
			l := smbconf.SplitSlashList(v)
			*dst(s) = l
			if len(l) == 0 {
				return "", nil
			}
			return "/" + strings.Join(l, "/") + "/", nil
		}}
	}
	modeOpt := func(name string, dst func(*ShareConf) *fs.FileMode) *shareOption {
		return &shareOption{name: name, set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
			m, err := smbconf.ParseOctal(v)
			if err != nil {
				return "", err
			}
			if m&^0o777 != 0 {
				c.warn(p.Line, fmt.Sprintf("option %q: only permission bits (0777) are applied", p.Name))
			}
			*dst(s) = fs.FileMode(m & 0o777)
			return fmt.Sprintf("%04o", m), nil
		}}
	}
	addShare(&shareOption{name: "path", set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
		s.Path = v
		return v, nil
	}}, "directory")
	addShare(&shareOption{name: "comment", set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
		s.Comment = v
		return v, nil
	}})
	addShare(boolOpt("read only", func(s *ShareConf) *bool { return &s.ReadOnly }, false))
	// writeable and its synonyms are read only inverted, shown as read only.
	w := boolOpt("read only", func(s *ShareConf) *bool { return &s.ReadOnly }, true)
	writeable := &shareOption{name: "read only", set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
		if _, err := w.set(c, p, s, v); err != nil {
			return "", err
		}
		return yesNo(s.ReadOnly), nil
	}}
	for _, n := range []string{"writeable", "writable", "write ok"} {
		shareOptions[smbconf.Key(n)] = writeable
	}
	addShare(boolOpt("browseable", func(s *ShareConf) *bool { return &s.Hidden }, true), "browsable")
	addShare(boolOpt("guest ok", func(s *ShareConf) *bool { return &s.Guest }, false), "public")
	addShare(listOpt("valid users", func(s *ShareConf) *[]string { return &s.Users }))
	addShare(listOpt("invalid users", func(s *ShareConf) *[]string { return &s.InvalidUsers }))
	addShare(listOpt("read list", func(s *ShareConf) *[]string { return &s.ReadList }))
	addShare(listOpt("write list", func(s *ShareConf) *[]string { return &s.WriteList }))
	addShare(slashOpt("veto files", func(s *ShareConf) *[]string { return &s.VetoFiles }))
	addShare(slashOpt("hide files", func(s *ShareConf) *[]string { return &s.HideFiles }))
	addShare(boolOpt("hide dot files", func(s *ShareConf) *bool { return &s.ShowDotFiles }, true))
	addShare(modeOpt("create mask", func(s *ShareConf) *fs.FileMode { return &s.CreateMask }), "create mode")
	addShare(modeOpt("directory mask", func(s *ShareConf) *fs.FileMode { return &s.DirectoryMask }), "directory mode")
	addShare(modeOpt("force create mode", func(s *ShareConf) *fs.FileMode { return &s.ForceCreateMode }))
	addShare(modeOpt("force directory mode", func(s *ShareConf) *fs.FileMode { return &s.ForceDirectoryMode }))
	addShare(boolOpt("store dos attributes", func(s *ShareConf) *bool { return &s.NoDOSAttributes }, true))
	addShare(boolOpt("oplocks", func(s *ShareConf) *bool { return &s.NoOplocks }, true))
	addShare(boolOpt("available", func(s *ShareConf) *bool { return &s.Unavailable }, true))
	addShare(&shareOption{name: "smb encrypt", set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
		pol, err := encryption(v)
		if err != nil {
			return "", err
		}
		s.Encrypt = pol == smb.EncryptionRequired
		return [...]string{"desired", "required", "off"}[pol], nil
	}}, "server smb encrypt")
	addShare(&shareOption{name: "max connections", set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return "", fmt.Errorf("%q is not a number of connections", v)
		}
		s.MaxConnections = n
		return v, nil
	}})
}

// loadUsers reads the user database the configuration names: user name ->
// NT hash. A missing database is no users (-user, guests or Kerberos may
// still log in). Run again, it gives the users of a reload.
func (c *Config) loadUsers() (map[string][]byte, error) {
	db, err := userdb.Load(c.Global.PasswdFile)
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	return db, err
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
