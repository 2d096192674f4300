package main

import (
	"fmt"
	"io"
	"strings"
)

// runConfig is `cifsd config check FILE`: it loads FILE as the daemon
// would and prints the configuration in effect as Samba's testparm -s does:
// warnings and the load result on stderr, the sections on stdout, each
// option applied once under its canonical name with its last value.
func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return fmt.Errorf("usage: cifsd config check FILE")
	}
	fmt.Fprintf(stderr, "Load smb config files from %s\n", args[1])
	c, err := loadConfig(args[1])
	if err != nil {
		return err
	}
	for _, w := range c.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintln(stderr, "Loaded services file OK.")
	c.print(stdout)
	return nil
}

// print writes the sections in effect: [global] and then the shares.
func (c *Config) print(w io.Writer) {
	fmt.Fprintln(w, "# Global parameters")
	printSection(w, "global", c.shown["global"])
	for _, s := range c.Shares {
		fmt.Fprintln(w)
		printSection(w, s.Name, c.shown[strings.ToLower(s.Name)])
	}
}

func printSection(w io.Writer, name string, s *shownSection) {
	fmt.Fprintf(w, "[%s]\n", name)
	if s == nil {
		return
	}
	for _, k := range s.order {
		fmt.Fprintf(w, "\t%s = %s\n", k, s.vals[k])
	}
}
