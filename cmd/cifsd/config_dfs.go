package main

import (
	"github.com/cifsd/cifsd/internal/smbconf"
)

// DFS options, as Samba names them: "host msdfs" ([global], default yes)
// and "msdfs root" (per share, default no). A DFS root's links are
// symbolic links in its directory whose target is
// "msdfs:HOST\SHARE[,HOST\SHARE...]" (smb.Share.DFSLinks nil), as Samba
// keeps them.
func init() {
	addGlobal(&globalOption{name: "host msdfs", set: func(c *Config, _ *netSettings, v string) (string, error) {
		b, err := smbconf.ParseBool(v)
		if err != nil {
			return "", err
		}
		c.Global.DisableDFS = !b
		return yesNo(b), nil
	}})
	addShare(&shareOption{name: "msdfs root", set: func(c *Config, p smbconf.Param, s *ShareConf, v string) (string, error) {
		b, err := smbconf.ParseBool(v)
		if err != nil {
			return "", err
		}
		s.DFSRoot = b
		return yesNo(b), nil
	}})
}
