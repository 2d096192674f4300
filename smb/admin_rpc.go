package smb

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/cifsd/cifsd/rpc"
	"github.com/cifsd/cifsd/smb2"
)

// adminState implements rpc.State: the sessions, tree connects and opens
// srvsvc lists (NetrSessionEnum, NetrConnectionEnum, NetrFileEnum) and
// closes (NetrSessionDel, NetrFileClose) for Computer Management's Shared
// Folders and rpcclient. rpc checks who may; this only reads and acts.
type adminState struct{ s *Server }

// hostOf strips the port from a "host:port" address.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// liveSessions returns the established sessions.
func (s *Server) liveSessions() []*Session {
	s.sessions.mu.RLock()
	all := make([]*Session, 0, len(s.sessions.m))
	for _, sess := range s.sessions.m {
		all = append(all, sess)
	}
	s.sessions.mu.RUnlock()
	out := all[:0]
	for _, sess := range all {
		sess.mu.Lock()
		valid := sess.state == sessionValid
		sess.mu.Unlock()
		if valid {
			out = append(out, sess)
		}
	}
	return out
}

func sessionClient(sess *Session) string {
	if c := sess.primary(); c != nil {
		return hostOf(c.remoteAddr)
	}
	return ""
}

// snapshot copies a session's trees and opens.
func (sess *Session) snapshot() ([]*Tree, []*Open) {
	sess.mu.Lock()
	trees := make([]*Tree, 0, len(sess.trees))
	for _, t := range sess.trees {
		trees = append(trees, t)
	}
	sess.mu.Unlock()
	return trees, sess.srv.state.SessionOpens(sess)
}

func (a adminState) Sessions(ctx context.Context) []rpc.SessionInfo {
	var out []rpc.SessionInfo
	for _, sess := range a.s.liveSessions() {
		_, opens := sess.snapshot()
		since, idle := sess.times(time.Now())
		out = append(out, rpc.SessionInfo{
			Client:    sessionClient(sess),
			User:      sess.Identity().User,
			Opens:     uint32(len(opens)),
			Time:      since,
			Idle:      idle,
			Guest:     sess.Identity().Guest,
			Transport: `\Device\NetbiosSmb`,
		})
	}
	return out
}

// touch records a request on the session, for its idle time. The stamp
// moves at most once a second, so concurrent requests of a session do not
// all write the same cache line.
func (sess *Session) touch() {
	now := time.Now().UnixNano()
	if now-sess.lastSeen.Load() >= int64(time.Second) {
		sess.lastSeen.Store(now)
	}
}

// times are how long the session has existed and how long since its
// last request, at now (MS-SRVS 2.2.4.15: sesi1_time, sesi1_idle_time).
func (sess *Session) times(now time.Time) (since, idle time.Duration) {
	if sess.created.IsZero() {
		return 0, 0
	}
	since = max(now.Sub(sess.created), 0)
	last := sess.created
	if ns := sess.lastSeen.Load(); ns != 0 {
		last = time.Unix(0, ns)
	}
	return since, max(now.Sub(last), 0)
}

// CloseSessions ends the matching sessions as an administrator's
// NetrSessionDel does on Windows: every open is closed, durable or not.
func (a adminState) CloseSessions(ctx context.Context, client, user string) int {
	n := 0
	for _, sess := range a.s.liveSessions() {
		if client != "" && !strings.EqualFold(client, sessionClient(sess)) {
			continue
		}
		if user != "" && !strings.EqualFold(user, sess.Identity().User) {
			continue
		}
		if a.s.sessions.remove(sess.ID) == nil {
			continue
		}
		sess.rememberGone()
		sess.teardown()
		n++
	}
	return n
}

// PERM_FILE_* of FILE_INFO_3's fi3_permissions (MS-SRVS 2.2.4.7).
const (
	permFileRead  = 0x1
	permFileWrite = 0x2
)

// fileID is the 32-bit id srvsvc names an open by.
func fileID(o *Open) uint32 { return uint32(o.id.Volatile) }

func (a adminState) Files(ctx context.Context) []rpc.FileInfo {
	var out []rpc.FileInfo
	for _, sess := range a.s.liveSessions() {
		_, opens := sess.snapshot()
		for _, o := range opens {
			if o.pipe != nil || o.node == nil || o.closed() {
				continue
			}
			o.mu.Lock()
			name, access := o.name, o.access
			o.mu.Unlock()
			var perm uint32
			if access&smb2.FileReadData != 0 {
				perm |= permFileRead
			}
			if access&(smb2.FileWriteData|smb2.FileAppendData) != 0 {
				perm |= permFileWrite
			}
			sh := o.share
			locks := a.s.state.LockCount(o)
			out = append(out, rpc.FileInfo{
				ID:          fileID(o),
				Path:        localPath(sh.cfg.Name, name),
				User:        sess.Identity().User,
				Permissions: perm,
				Locks:       uint32(locks),
			})
		}
	}
	return out
}

// localPath is how Windows reports an open file: the share's local path
// and the file's below it ("C:\share\dir\file"; rpc.ShareInfo.Path).
func localPath(share, name string) string {
	p := `C:\` + share
	if name != "" && name != "." {
		p += `\` + strings.ReplaceAll(name, "/", `\`)
	}
	return p
}

func (a adminState) CloseFile(ctx context.Context, id uint32) bool {
	for _, sess := range a.s.liveSessions() {
		_, opens := sess.snapshot()
		for _, o := range opens {
			if o.pipe != nil || fileID(o) != id {
				continue
			}
			sess.removeOpen(o)
			if err := o.close(); err != nil {
				a.s.logger().Debug("NetrFileClose", "name", o.name, "err", err)
			}
			return true
		}
	}
	return false
}

func (a adminState) Connections(ctx context.Context) []rpc.ConnectionInfo {
	var out []rpc.ConnectionInfo
	for _, sess := range a.s.liveSessions() {
		trees, opens := sess.snapshot()
		for _, t := range trees {
			n := 0
			for _, o := range opens {
				if o.tree == t {
					n++
				}
			}
			out = append(out, rpc.ConnectionInfo{
				ID:     t.ID,
				Share:  t.share.cfg.Name,
				User:   sess.Identity().User,
				Client: sessionClient(sess),
				Opens:  uint32(n),
			})
		}
	}
	return out
}

// treeCounts counts the tree connects to each share (upper-cased name).
func (s *Server) treeCounts() map[string]uint32 {
	m := map[string]uint32{}
	for _, sess := range s.liveSessions() {
		trees, _ := sess.snapshot()
		for _, t := range trees {
			m[strings.ToUpper(t.share.cfg.Name)]++
		}
	}
	return m
}
