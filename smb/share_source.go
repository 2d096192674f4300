package smb

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// ShareSource finds the shares a server serves, for applications whose
// shares are not fixed: per user, made on demand, or reloaded from a
// configuration file while clients are connected. Set Server.ShareSource to
// use one; without it the server serves Server.Shares.
//
// A share a source stops returning refuses new tree connects; tree connects
// and opens made through it go on until they end. A *Share must not be
// changed once returned: to change a share, return a new *Share (the
// server keeps the open files' state per *Share, so a new one starts
// afresh for new tree connects).
type ShareSource interface {
	// Share returns the disk share called name (compared without regard
	// to case) for the session, or nil when there is none. sess is the
	// session connecting.
	Share(ctx context.Context, sess *Session, name string) *Share
	// Shares lists the shares a share enumeration shows (srvsvc); sess
	// may be nil when the caller is not known.
	Shares(ctx context.Context, sess *Session) []*Share
}

// ShareSet is a ShareSource whose shares can be replaced at any time
// (Set), as a daemon does on reload. Its zero value holds no shares and is
// ready to use.
type ShareSet struct {
	mu     sync.RWMutex
	byName map[string]*Share // upper-cased name -> share
	order  []*Share
}

// NewShareSet returns a ShareSet holding shares.
func NewShareSet(shares ...*Share) *ShareSet {
	s := &ShareSet{}
	s.Set(shares...)
	return s
}

// Set replaces the set's shares. A share whose *Share is in both the old
// and the new set is the same share to open files; any other is new.
func (s *ShareSet) Set(shares ...*Share) {
	byName := make(map[string]*Share, len(shares))
	order := make([]*Share, 0, len(shares))
	for _, sh := range shares {
		k := strings.ToUpper(sh.Name)
		if _, dup := byName[k]; dup || k == "IPC$" {
			continue
		}
		byName[k] = sh
		order = append(order, sh)
	}
	s.mu.Lock()
	s.byName, s.order = byName, order
	s.mu.Unlock()
}

// Share returns the share called name, or nil.
func (s *ShareSet) Share(_ context.Context, _ *Session, name string) *Share {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byName[strings.ToUpper(name)]
}

// Shares returns the set's shares in the order they were given.
func (s *ShareSet) Shares(context.Context, *Session) []*Share {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.order)
}

// shareStates keeps the server's state of each share (its open files,
// names reserved, watchers) per *Share, for as long as the server runs.
type shareStates struct {
	mu sync.Mutex
	m  map[*Share]*shareState
}

// of returns sh's state, making it on first use, with its files kept in
// store.
func (t *shareStates) of(sh *Share, store stateStore) *shareState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.m[sh]; st != nil {
		return st
	}
	if t.m == nil {
		t.m = make(map[*Share]*shareState)
	}
	st := newShareState(sh)
	st.store = store
	t.m[sh] = st
	return st
}

// shareSource is the source of the server's disk shares: ShareSource, or
// the fixed Shares.
func (s *Server) shareSource() ShareSource {
	if s.ShareSource != nil {
		return s.ShareSource
	}
	return s.static
}

// lookupShare finds the share a TREE_CONNECT names, IPC$ included.
func (s *Server) lookupShare(ctx context.Context, sess *Session, name string) *shareState {
	if strings.EqualFold(name, "IPC$") {
		return s.ipc
	}
	sh := s.shareSource().Share(ctx, sess, name)
	if sh == nil || sh.FS == nil {
		return nil
	}
	return s.states.of(sh, s.state)
}
