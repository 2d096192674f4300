package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// "msdfs root" makes a share a DFS root, "host msdfs = no" turns DFS off;
// config check prints both as testparm does.
func TestConfigDFS(t *testing.T) {
	c, err := parse(t, "[global]\nhost msdfs = no\n[dfs]\npath = /d\nmsdfs root = yes\n[plain]\npath = /p\n")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Global.DisableDFS || len(c.Shares) != 2 || !c.Shares[0].DFSRoot || c.Shares[1].DFSRoot || len(c.Warnings) != 0 {
		t.Fatalf("global %+v shares %+v warnings %v", c.Global, c.Shares, c.Warnings)
	}
	if _, err := parse(t, "[dfs]\npath = /d\nmsdfs root = maybe\n"); err == nil {
		t.Error("msdfs root = maybe accepted")
	}

	p := filepath.Join(t.TempDir(), "smb.conf")
	os.WriteFile(p, []byte("[global]\nhost msdfs = yes\n[dfs]\npath = /d\nmsdfs root = yes\n"), 0o644)
	var out, errs bytes.Buffer
	if err := runConfig([]string{"check", p}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	want := "# Global parameters\n[global]\n\thost msdfs = Yes\n\n[dfs]\n\tpath = /d\n\tmsdfs root = Yes\n"
	if out.String() != want || bytes.Contains(errs.Bytes(), []byte("warning")) {
		t.Errorf("config check printed\n%s\nwant\n%s\n%s", out.String(), want, errs.String())
	}
}
