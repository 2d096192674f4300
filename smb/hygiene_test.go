package smb

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cifsd/cifsd/auth"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
	"github.com/cifsd/cifsd/vfs"
)

// lockBody is a LOCK of one element.
func lockBody(f smb2.FileID, off, n uint64, flags uint32) []byte {
	b := make([]byte, 48)
	le16(b, 48)
	le16(b[2:], 1)
	putFID(b[8:], f)
	le64(b[24:], off)
	le64(b[32:], n)
	le32(b[40:], flags)
	return b
}

// tcpTreeClient connects a logged-in, tree-connected wireClient to srv's
// listener at addr over TCP.
func tcpTreeClient(t *testing.T, addr string) *wireClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	w := &wireClient{t: t, c: c}
	w.login("u", "p")
	h, _ := w.treeConnect("s")
	if h.Status != 0 {
		t.Fatalf("tree connect: %v", smb2.Status(h.Status))
	}
	w.tid = h.TreeID
	return w
}

// hygieneCycle runs, between two clients, what holds server goroutines
// and memory: opens, a blocking lock that waits and is granted, a change
// notification that waits and completes, and then a blocking lock and a
// notification still waiting when both connections drop.
func hygieneCycle(t *testing.T, addr string, i int) {
	a, b := tcpTreeClient(t, addr), tcpTreeClient(t, addr)
	defer a.c.Close()
	defer b.c.Close()
	name := fmt.Sprintf("f%d", i)
	fa := a.open(name, smb2.GenericAll, 0)
	fb := b.open(name, smb2.GenericAll, 0)
	a.lockRange(fa, 0, 10, false)
	// b waits for a's lock ...
	lockMID := b.send(smb2.Lock, lockBody(fb, 0, 10, smb2.LockFlagExclusive))
	if h, _ := b.recv(); h.MessageID != lockMID || smb2.Status(h.Status) != smb2.StatusPending {
		t.Fatalf("blocking lock: %v, want STATUS_PENDING", smb2.Status(h.Status))
	}
	// ... a watches a directory ...
	dir := a.open(fmt.Sprintf("d%d", i), smb2.GenericAll, smb2.FileDirectoryFile)
	notifyMID := a.pendingNotify(dir, notifyChangeFileName)
	// ... and unlocks: b's lock is granted.
	unlockMID := a.send(smb2.Lock, lockBody(fa, 0, 10, smb2.LockFlagUnlock))
	if h, _ := b.recvFinal(lockMID); h.Status != 0 {
		t.Fatalf("blocking lock granted with %v", smb2.Status(h.Status))
	}
	// b creates a file in the watched directory: a is notified.
	b.closeFile(b.open(fmt.Sprintf(`d%d\new`, i), smb2.GenericAll, 0))
	for range 2 {
		h, _ := a.recv()
		switch {
		case h.MessageID == unlockMID && h.Status != 0:
			t.Fatalf("unlock: %v", smb2.Status(h.Status))
		case h.MessageID == notifyMID && h.Status != 0:
			t.Fatalf("notify: %v", smb2.Status(h.Status))
		}
	}
	// Leave a waiting lock and a waiting notification behind.
	mid := a.send(smb2.Lock, lockBody(fa, 0, 10, smb2.LockFlagExclusive))
	if h, _ := a.recv(); h.MessageID != mid || smb2.Status(h.Status) != smb2.StatusPending {
		t.Fatalf("blocking lock: %v, want STATUS_PENDING", smb2.Status(h.Status))
	}
	a.pendingNotify(dir, notifyChangeFileName)
}

// After cycles of connect, open, lock-wait, notify and disconnect, some
// left waiting when their connection drops, the server's goroutines come
// back to their idle count: nothing waits on for a client that left. The
// count is polled until it settles (no time is asserted; the bound only
// ends a test that would otherwise hang).
func TestGoroutinesReturnToIdle(t *testing.T) {
	type backend struct {
		fs    func(t *testing.T) vfs.FS
		quiet time.Duration // how long the server may keep helpers after use
	}
	backends := map[string]backend{
		"mem": {fs: func(*testing.T) vfs.FS { return vfs.NewMem() }},
	}
	if !testing.Short() {
		// The OS-directory backend also watches the directory for changes
		// made outside the server while a notification waits; the watch
		// stops a while after the last one (notify_outside.go).
		backends["dir"] = backend{quiet: outsideIdle + time.Second, fs: func(t *testing.T) vfs.FS {
			d, err := vfs.Dir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return d
		}}
	}
	for name, be := range backends {
		t.Run(name, func(t *testing.T) {
			srv := &Server{
				Shares: []Share{{Name: "s", FS: be.fs(t)}},
				Auth:   auth.Negotiate(ntlm.Users(ntlm.Passwords(map[string]string{"u": "p"}))),
				Logger: slog.New(slog.DiscardHandler),
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(l)
			defer srv.Close()
			// Warm up: one cycle starts whatever the server keeps for its
			// lifetime, then the idle count is taken.
			hygieneCycle(t, l.Addr().String(), 0)
			idle := settle(t, -1, be.quiet)
			for i := 1; i <= 20; i++ {
				hygieneCycle(t, l.Addr().String(), i)
			}
			if n := settle(t, idle, 0); n > idle {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("%d goroutines after the cycles, %d idle:\n%s", n, idle, serverStacks(string(buf)))
			}
		})
	}
}

// settle polls the goroutine count until it is at most want, for up to a
// minute, and returns it. With want < 0 it returns the count once it has
// not changed for a second, after waiting quiet first.
func settle(t *testing.T, want int, quiet time.Duration) int {
	t.Helper()
	time.Sleep(quiet)
	last, stableSince := -1, time.Now()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		runtime.GC()
		n := runtime.NumGoroutine()
		if want >= 0 && n <= want {
			return n
		}
		if n != last {
			last, stableSince = n, time.Now()
		} else if want < 0 && time.Since(stableSince) >= time.Second {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
	return last
}

// serverStacks keeps the goroutines that run cifsd code.
func serverStacks(all string) string {
	var keep []string
	for g := range strings.SplitSeq(all, "\n\n") {
		if strings.Contains(g, "cifsd/cifsd/smb.") || strings.Contains(g, "cifsd/cifsd/vfs.") {
			keep = append(keep, g)
		}
	}
	return strings.Join(keep, "\n\n")
}
