package main

import (
	"fmt"
	"runtime/debug"
)

// version is the module version cifsd was built from: the tag that
// `go install github.com/cifsd/cifsd/cmd/cifsd@VERSION` fetched, or, for a
// build in a checkout, "(devel)" with the VCS revision when Go recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" && v == "(devel)" {
		v += fmt.Sprintf(" %.12s%s", rev, modified)
	}
	return fmt.Sprintf("cifsd %s (%s)", v, bi.GoVersion)
}
