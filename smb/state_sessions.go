package smb

import "github.com/cifsd/cifsd/smb2"

// sessionOpenStore is every session's table of opens by volatile file id
// (MS-SMB2 3.3.1.8 Session.OpenTable): what a request's FileId is looked
// up in, what TREE_DISCONNECT and the end of a session close, and what the
// admin views and the limits count. The file ids are the server's
// (Session.addOpen); the store keeps the table. Each method takes what it
// needs and is atomic for the session.
type sessionOpenStore interface {
	// AddOpen registers o on s under o's file id.
	AddOpen(s *Session, o *Open)
	// LookupOpen returns the open of s with file id id, nil when s has
	// none (or the persistent part differs).
	LookupOpen(s *Session, id smb2.FileID) *Open
	// RemoveOpen takes o out of s's table.
	RemoveOpen(s *Session, o *Open)
	// SessionOpens returns the opens of s, in no particular order.
	SessionOpens(s *Session) []*Open
	// SessionOpenCount is the number of opens of s.
	SessionOpenCount(s *Session) int
	// TakeTreeOpens takes the opens s made through the tree connect t out
	// of its table and returns them (TREE_DISCONNECT closes them).
	TakeTreeOpens(s *Session, t *Tree) []*Open
	// TakeSessionOpens empties s's table and returns what it held (the
	// session ends: its opens are closed, or kept as durable).
	TakeSessionOpens(s *Session) []*Open
}

// The sessionOpenStore of memState: each session's table is its own
// (Session.opens), under Session.mu.

// AddOpen registers o on s.
func (*memState) AddOpen(s *Session, o *Open) {
	s.mu.Lock()
	if s.opens == nil {
		s.opens = make(map[uint64]*Open)
	}
	s.opens[o.id.Volatile] = o
	s.mu.Unlock()
}

// LookupOpen finds an open of s by file id.
func (*memState) LookupOpen(s *Session, id smb2.FileID) *Open {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.opens[id.Volatile]
	if o == nil || o.id.Persistent != id.Persistent {
		return nil
	}
	return o
}

// RemoveOpen takes o out of s's table.
func (*memState) RemoveOpen(s *Session, o *Open) {
	s.mu.Lock()
	delete(s.opens, o.id.Volatile)
	s.mu.Unlock()
}

// SessionOpens copies s's opens.
func (*memState) SessionOpens(s *Session) []*Open {
	s.mu.Lock()
	defer s.mu.Unlock()
	opens := make([]*Open, 0, len(s.opens))
	for _, o := range s.opens {
		opens = append(opens, o)
	}
	return opens
}

// SessionOpenCount counts s's opens.
func (*memState) SessionOpenCount(s *Session) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.opens)
}

// TakeTreeOpens takes t's opens out of s's table.
func (*memState) TakeTreeOpens(s *Session, t *Tree) []*Open {
	s.mu.Lock()
	defer s.mu.Unlock()
	var opens []*Open
	for id, o := range s.opens {
		if o.tree == t {
			opens = append(opens, o)
			delete(s.opens, id)
		}
	}
	return opens
}

// TakeSessionOpens empties s's table.
func (*memState) TakeSessionOpens(s *Session) []*Open {
	s.mu.Lock()
	defer s.mu.Unlock()
	opens := make([]*Open, 0, len(s.opens))
	for _, o := range s.opens {
		opens = append(opens, o)
	}
	s.opens = nil
	return opens
}
