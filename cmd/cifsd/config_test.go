package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cifsd/cifsd/internal/smbconf"
	"github.com/cifsd/cifsd/internal/userdb"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb"
	"github.com/cifsd/cifsd/smb2"
)

func parse(t *testing.T, text string) (*Config, error) {
	t.Helper()
	f, err := smbconf.Parse("test.conf", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return interpret(f)
}

func TestConfigGlobal(t *testing.T) {
	c, err := parse(t, `[global]
	netbios name = FILES
	server string = files here
	server min protocol = SMB2_10
	server max protocol = SMB3
	server signing = mandatory
	smb encrypt = required
	server multi channel support = no
	interfaces = 127.0.0.1 ::1
	bind interfaces only = yes
	smb ports = 4455
	map to guest = Bad User
	restrict anonymous = 0
	log level = 3 auth:5
	smb passwd file = /x/pwd.db
	cifsd:group file = /x/group
`)
	if err != nil {
		t.Fatal(err)
	}
	g := c.Global
	if g.ServerName != "FILES" || g.Comment != "files here" || g.MinDialect != smb2.Dialect210 || g.MaxDialect != smb2.Dialect311 {
		t.Errorf("names/dialects: %+v", g)
	}
	if *g.Signing != smb.SigningRequired || *g.Encryption != smb.EncryptionRequired || *g.MultiChannel {
		t.Errorf("signing/encryption/multichannel: %v %v %v", *g.Signing, *g.Encryption, *g.MultiChannel)
	}
	if !slices.Equal(g.Listen, []string{"127.0.0.1:4455", "[::1]:4455"}) {
		t.Errorf("listen = %q", g.Listen)
	}
	if !g.Guest || !*g.Anonymous || g.LogLevel != "debug" || g.PasswdFile != "/x/pwd.db" || g.GroupFile != "/x/group" {
		t.Errorf("guest/anonymous/log/files: %+v", g)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %q", c.Warnings)
	}
}

func TestConfigShares(t *testing.T) {
	c, err := parse(t, `[global]
	read only = no
	smb encrypt = desired
[pub]
	path = /srv/pub
	comment = public files
	guest ok = yes
	browseable = no
	hide dot files = no
	hide files = /*.bak/
	veto files = /*.tmp/.git/
	create mask = 0640
	force create mode = 0004
	directory mode = 0750
	force directory mode = 0005
	store dos attributes = no
	oplocks = no
	smb encrypt = required
	max connections = 3
	available = no
[ro]
	path = /srv/ro
	writeable = no
	valid users = alice, "bob smith", @staff
	invalid users = carol
	read list = dave
	write list = @admins
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Shares) != 2 {
		t.Fatalf("%d shares", len(c.Shares))
	}
	p, r := c.Shares[0], c.Shares[1]
	if p.Path != "/srv/pub" || p.Comment != "public files" || !p.Guest || !p.Hidden || !p.ShowDotFiles ||
		p.ReadOnly || p.CreateMask != 0o640 || p.ForceCreateMode != 0o004 || p.DirectoryMask != 0o750 ||
		p.ForceDirectoryMode != 0o005 || !p.NoDOSAttributes || !p.NoOplocks || !p.Encrypt ||
		p.MaxConnections != 3 || !p.Unavailable ||
		!slices.Equal(p.VetoFiles, []string{"*.tmp", ".git"}) || !slices.Equal(p.HideFiles, []string{"*.bak"}) {
		t.Errorf("pub = %+v", p)
	}
	if !r.ReadOnly || r.ShowDotFiles || r.CreateMask != 0o744 || r.DirectoryMask != 0o755 || r.Hidden ||
		!slices.Equal(r.Users, []string{"alice", "bob smith", "@staff"}) ||
		!slices.Equal(r.InvalidUsers, []string{"carol"}) || !slices.Equal(r.ReadList, []string{"dave"}) ||
		!slices.Equal(r.WriteList, []string{"@admins"}) {
		t.Errorf("ro (Samba's defaults, [global]'s read only overridden) = %+v", r)
	}
	if *c.Global.Encryption != smb.EncryptionDesired {
		t.Error("smb encrypt in [global] is the server's policy")
	}
}

func TestConfigWarningsNameFileAndLine(t *testing.T) {
	c, err := parse(t, `[global]
	server role = standalone server
	guest account = nobody
	netbios name = X
[s]
	path = /tmp
	netbios name = Y
	frobnicate = yes
[homes]
	path = /home
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`test.conf:2: unknown or unsupported option "server role"`,
		`test.conf:3: option "guest account": cifsd's guest sessions map to no Unix account`,
		`test.conf:7: global option "netbios name" in share [s]`,
		`test.conf:8: unknown or unsupported option "frobnicate"`,
		`test.conf:9: section [homes] is not supported`,
	}
	if len(c.Warnings) != len(want) {
		t.Fatalf("warnings %q", c.Warnings)
	}
	for i, w := range want {
		if !strings.HasPrefix(c.Warnings[i], w) {
			t.Errorf("warning %d = %q, want %q...", i, c.Warnings[i], w)
		}
	}
	if c.Global.ServerName != "X" {
		t.Error("a share's global option changed the server")
	}
}

func TestConfigBadValuesNameTheLine(t *testing.T) {
	for _, text := range []string{
		"[s]\npath = /x\nread only = perhaps\n",
		"[s]\npath = /x\ncreate mask = 9\n",
		"[global]\n\nserver max protocol = SMB9\n",
		"[s]\npath = /x\nmax connections = many\n",
	} {
		_, err := parse(t, text)
		if err == nil || !strings.Contains(err.Error(), "test.conf:3:") {
			t.Errorf("%q: err = %v, want one naming test.conf:3", text, err)
		}
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.conf")
	os.WriteFile(p, []byte("[global]\nnot an option line\n"), 0o644)
	if _, err := loadConfig(p); err == nil || !strings.Contains(err.Error(), p+":2:") {
		t.Errorf("malformed file: %v", err)
	}
}

func TestConfigCheckPrints(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "smb.conf")
	os.WriteFile(p, []byte("[global]\nNetBIOS_Name = F\nworkgroup = a\nworkgroup = B\n[Data]\npath = /d\nwritable = yes\n"), 0o644)
	var out, errs bytes.Buffer
	if err := runConfig([]string{"check", p}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	want := "# Global parameters\n[global]\n\tnetbios name = F\n\tworkgroup = B\n\n[Data]\n\tpath = /d\n\tread only = No\n"
	if out.String() != want {
		t.Errorf("config check printed\n%s\nwant\n%s", out.String(), want)
	}
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "etc", "pwd.db")
	conf := filepath.Join(dir, "smb.conf")
	os.WriteFile(conf, []byte("[global]\nsmb passwd file = "+db+"\n"), 0o644)
	var out, errs bytes.Buffer
	user := func(stdin string, args ...string) error {
		out.Reset()
		return runUser(args, strings.NewReader(stdin), &out, &errs)
	}
	if err := user("secret\n", "add", "-config", conf, "-stdin", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := user("pw2", "add", "-db", db, "-stdin", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := user("x\n", "add", "-db", db, "-stdin", "alice"); err == nil {
		t.Error("added alice twice")
	}
	if err := user("", "list", "-db", db); err != nil || out.String() != "alice\nbob\n" {
		t.Errorf("list: %q, %v", out.String(), err)
	}
	if err := user("changed\n", "passwd", "-config", conf, "-stdin", "alice"); err != nil {
		t.Fatal(err)
	}
	got, err := userdb.Load(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got["alice"], ntlm.NTHash("changed")) || !bytes.Equal(got["bob"], ntlm.NTHash("pw2")) {
		t.Error("stored hashes are not the NT hashes of the passwords given")
	}
	raw, _ := os.ReadFile(db)
	if bytes.Contains(raw, []byte("changed")) || bytes.Contains(raw, []byte("secret")) {
		t.Error("a password is stored in clear")
	}
	if fi, _ := os.Stat(db); fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("database mode %v readable by others", fi.Mode())
	}
	if err := user("", "delete", "-db", db, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := user("", "delete", "-db", db, "bob"); err == nil {
		t.Error("deleted bob twice")
	}
	if err := user("x\n", "passwd", "-db", db, "-stdin", "nobody"); err == nil {
		t.Error("changed the password of a missing user")
	}
	if err := user("x\n", "add", "-db", db, "-stdin", "a:b"); err == nil {
		t.Error("added a name with ':'")
	}
	if err := user("", "list", "-db", db); err != nil || out.String() != "alice\n" {
		t.Errorf("list after delete: %q, %v", out.String(), err)
	}
}

func TestGroups(t *testing.T) {
	g, err := readGroups(strings.NewReader("# comment\nstaff:x:100:alice,Bob\nbroken line\nempty:x:101:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !g.inGroup("ALICE", "Staff") || !g.inGroup("bob", "staff") || g.inGroup("carol", "staff") || g.inGroup("alice", "empty") {
		t.Errorf("groups %v", g)
	}
}

// The example configuration shipped in examples/ loads without a warning.
func TestExampleConfig(t *testing.T) {
	c, err := loadConfig("../../examples/cifsd.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 || len(c.Shares) != 3 {
		t.Errorf("warnings %q, %d shares", c.Warnings, len(c.Shares))
	}
}

// Any file the parser accepts is interpreted or refused with an error
// naming a line, never a panic.
func FuzzInterpret(f *testing.F) {
	f.Add("[global]\nlog level = 12\nsmb ports = 1 2\n[s]\npath = /x\ncreate mask = 7777\nmax connections = 0\n")
	f.Add("[global]\nserver signing = disabled\nmap to guest = bad uid\nserver max protocol = NT1\n")
	f.Fuzz(func(t *testing.T, text string) {
		file, err := smbconf.Parse("f.conf", strings.NewReader(text))
		if err != nil {
			return
		}
		c, err := interpret(file)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		var b bytes.Buffer
		c.print(&b)
	})
}

func TestConfigInterfacesErrorNamesTheLine(t *testing.T) {
	_, err := parse(t, "[global]\nbind interfaces only = yes\ninterfaces = no-such-if0\n")
	if err == nil || !strings.Contains(err.Error(), "test.conf:3:") {
		t.Errorf("err = %v, want one naming test.conf:3", err)
	}
}

func TestMergeShares(t *testing.T) {
	file := []smb.Share{{Name: "a", Comment: "file"}, {Name: "b"}}
	flags := []smb.Share{{Name: "A", Comment: "flag"}, {Name: "c"}}
	got := (&Config{}).mergeShares(file, flags, true)
	if len(got) != 3 || got[0].Comment != "flag" || got[2].Name != "c" {
		t.Fatalf("merged %+v", got)
	}
	for _, sh := range got {
		if !sh.ReadOnly {
			t.Errorf("%s not read-only under -read-only", sh.Name)
		}
	}
	// With a file, the daemon's umask is 0: a flag's share gets Samba's
	// default masks rather than world-writable files.
	if got[2].CreateMask != 0o744 || got[2].DirectoryMask != 0o755 {
		t.Errorf("flag share masks %o %o", got[2].CreateMask, got[2].DirectoryMask)
	}
	if plain := (*Config)(nil).mergeShares(nil, flags, false); plain[1].CreateMask != 0 || plain[1].ReadOnly {
		t.Errorf("without a file the flags' shares are as given: %+v", plain[1])
	}
}

// The limits, metrics address and the leases and durable handles switches
// of [global] map onto the server's settings; the options' 0 is "no
// limit" (a negative smb.Limits field), deadtime is minutes and its 0 is
// never; unset options leave the defaults.
func TestConfigLimitsAndSwitches(t *testing.T) {
	c, err := parse(t, `[global]
	max connections = 100
	max ip connections = 0
	max open files = 500
	deadtime = 15
	metrics address = 127.0.0.1:9445
	smb2 leases = no
	durable handles = no
	cifsd:control socket = /run/x.sock
`)
	if err != nil {
		t.Fatal(err)
	}
	g := c.Global
	want := smb.Limits{MaxConnections: 100, MaxConnectionsPerIP: -1, MaxOpensPerSession: 500}
	if g.Limits != want {
		t.Errorf("limits %+v, want %+v", g.Limits, want)
	}
	if g.IdleTimeout != 15*time.Minute || g.MetricsAddress != "127.0.0.1:9445" || g.ControlSocket != "/run/x.sock" {
		t.Errorf("deadtime %v, metrics %q, socket %q", g.IdleTimeout, g.MetricsAddress, g.ControlSocket)
	}
	if !g.NoLeases || !g.NoDurableHandles {
		t.Errorf("leases off %v, durable handles off %v", g.NoLeases, g.NoDurableHandles)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings %q", c.Warnings)
	}

	// Applied to a server: the file's values where no flag was given.
	srv := &smb.Server{}
	var lf limitFlags
	lf.fromFile(g, map[string]bool{"max-opens": true})
	lf.limits.MaxOpensPerSession = 7 // as -max-opens 7 would
	lf.apply(srv, ntlm.Users(nil), nil)
	if srv.Limits.MaxConnections != 100 || srv.Limits.MaxConnectionsPerIP != -1 || srv.Limits.MaxOpensPerSession != 7 {
		t.Errorf("server limits %+v", srv.Limits)
	}
	if srv.IdleTimeout != 15*time.Minute {
		t.Errorf("idle timeout %v", srv.IdleTimeout)
	}

	c, err = parse(t, "[global]\n\tdeadtime = 0\n\tsmb2 leases = yes\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Global.IdleTimeout >= 0 || c.Global.NoLeases || c.Global.Limits != (smb.Limits{}) {
		t.Errorf("deadtime = 0: %v; leases off %v; limits %+v", c.Global.IdleTimeout, c.Global.NoLeases, c.Global.Limits)
	}
	for _, bad := range []string{"max connections = -1", "deadtime = soon", "max open files = x"} {
		if _, err := parse(t, "[global]\n"+bad+"\n"); err == nil || !strings.Contains(err.Error(), "test.conf:2:") {
			t.Errorf("%s: %v, want an error naming line 2", bad, err)
		}
	}
}

// The daemon takes metrics address, the control socket and the limits
// from the file when no flag gives them (applyConfigFile: no flags are set
// in a test binary's command line).
func TestApplyConfigFileMetricsAndLimits(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "smb.conf")
	os.WriteFile(conf, []byte("[global]\n\tmetrics address = 127.0.0.1:9445\n\tcifsd:control socket = /run/x.sock\n"+
		"\tmax ip connections = 3\n\tdeadtime = 0\n"), 0o644)
	var name, logLevel, keytab, listen, signing, encrypt, metrics, socket string
	var multichannel, guest, anonymous bool
	lf := &limitFlags{}
	_, _, err := applyConfigFile(conf, fileTargets{name: &name, logLevel: &logLevel, keytab: &keytab, listen: &listen,
		signing: &signing, encrypt: &encrypt, metrics: &metrics, controlSocket: &socket,
		multichannel: &multichannel, guest: &guest, anonymous: &anonymous, limits: lf})
	if err != nil {
		t.Fatal(err)
	}
	if metrics != "127.0.0.1:9445" || socket != "/run/x.sock" {
		t.Errorf("metrics %q, control socket %q", metrics, socket)
	}
	if lf.limits.MaxConnectionsPerIP != 3 || lf.idle >= 0 || lf.limits.MaxConnections != 0 {
		t.Errorf("limits %+v, idle %v", lf.limits, lf.idle)
	}
}
