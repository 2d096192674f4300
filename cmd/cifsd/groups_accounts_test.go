package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The group file's groups with a cifsd user among their members become
// the server's local groups, with those members only.
func TestAccountGroups(t *testing.T) {
	f := filepath.Join(t.TempDir(), "group")
	os.WriteFile(f, []byte("staff:x:100:alice,Bob,carol\nwheel:x:10:root\nempty:x:11:\n"), 0o644)
	c := &Config{}
	c.Global.GroupFile = f
	gs, err := c.accountGroups([]string{"alice", "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Name != "staff" || len(gs[0].Members) != 2 || gs[0].Members[0] != "alice" || gs[0].Members[1] != "bob" {
		t.Fatalf("groups: %+v", gs)
	}
	if gs, err := (*Config)(nil).accountGroups([]string{"alice"}); gs != nil || err != nil {
		t.Fatalf("without a configuration: %v %v", gs, err)
	}
}
