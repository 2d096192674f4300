package main

import (
	"context"
	"testing"
	"time"
)

// The whole workload runs against an in-process server with each client:
// every file is created, listed (each listing checks the entry count),
// renamed and deleted, and the directory is empty at the end.
func TestWorkload(t *testing.T) {
	for _, client := range []string{clientWire, clientGoSMB2} {
		t.Run(client, func(t *testing.T) { testWorkload(t, client) })
	}
}

func testWorkload(t *testing.T, client string) {
	srv, err := startSlowServer("share", "u", "pw", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := config{
		addr: srv.addr, share: "share", user: "u", pass: "pw", dir: "t", client: client,
		files: 30, phase: time.Hour, // rename and delete end when the files do
		ops: []string{"create", "rename", "delete"},
	}
	results, err := runWorkload(context.Background(), cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"create", "rename", "delete"} {
		if results[i].op != want || results[i].n != 30 {
			t.Errorf("phase %d: %s did %d operations, want %s with 30", i, results[i].op, results[i].n, want)
		}
	}

	c, err := dialClient(context.Background(), cfg, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if n, err := c.conn.list(workDir(cfg, 3)); err != nil || n != 0 {
		t.Errorf("after delete: %d entries left (%v), want none", n, err)
	}

	// Timed phases end on time; the listing sees every file.
	cfg.files, cfg.phase = 12, 50*time.Millisecond
	cfg.ops = []string{"create", "stat", "list"}
	results, err = runWorkload(context.Background(), cfg, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.n == 0 {
			t.Errorf("%s did nothing", r.op)
		}
	}
	n, err := c.conn.list(workDir(cfg, 2))
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Errorf("directory holds %d files after the create phase, want 12", n)
	}
}

func TestCreateFirst(t *testing.T) {
	cfg := config{ops: []string{"stat", "create"}}
	if _, err := runWorkload(context.Background(), cfg, 1); err == nil {
		t.Error("a workload without create first ran")
	}
}

func TestParseOps(t *testing.T) {
	if _, err := parseOps("create,bogus"); err == nil {
		t.Error("unknown phase accepted")
	}
	if _, err := parseInts("1,0"); err == nil {
		t.Error("zero connections accepted")
	}
}
