package rpc

import (
	"context"
	"time"
)

// Share types (MS-SRVS 2.2.2.4).
const (
	ShareTypeDisk    uint32 = 0x00000000
	ShareTypeIPC     uint32 = 0x00000003
	ShareTypeSpecial uint32 = 0x80000000
)

// ShareInfo describes one share for NetrShareEnum and NetrShareGetInfo.
type ShareInfo struct {
	// Name is the share's name.
	Name string
	// Type is one of ShareTypeDisk and ShareTypeIPC, with
	// ShareTypeSpecial for administrative shares (IPC$).
	Type uint32
	// Comment is the share's remark.
	Comment string
	// Path is the share's local path as NetrShareGetInfo reports it
	// ("C:\NAME" when empty).
	Path string
	// CurrentUses is the number of tree connects to the share.
	CurrentUses uint32
	// Flags are the SHARE_INFO_1005 flags (MS-SRVS 2.2.4.29): caching
	// and access-based enumeration.
	Flags uint32
}

// SessionInfo is one session for NetrSessionEnum (MS-SRVS 2.2.4.15).
type SessionInfo struct {
	// Client is the client's address as it connected ("127.0.0.1").
	Client string
	// User is the session's account name ("" for a null session).
	User string
	// Opens is the number of files, directories and pipes it holds open.
	Opens uint32
	// Time is how long the session has existed; Idle how long since its
	// last request.
	Time, Idle time.Duration
	// Guest marks a guest session (SESS_GUEST).
	Guest bool
	// Transport names the connection's transport ("\Device\NetbiosSmb").
	Transport string
}

// FileInfo is one open file for NetrFileEnum (MS-SRVS 2.2.4.8).
type FileInfo struct {
	// ID identifies the open for NetrFileClose.
	ID uint32
	// Path is the file's path, "SHARE\dir\name" as Windows reports
	// it relative to the share's root.
	Path string
	// User is the account that opened it.
	User string
	// Permissions are the PERM_FILE_* rights of the open (MS-SRVS 2.2.2.9).
	Permissions uint32
	// Locks is the number of byte-range locks it holds.
	Locks uint32
}

// ConnectionInfo is one tree connect for NetrConnectionEnum (MS-SRVS
// 2.2.4.2).
type ConnectionInfo struct {
	// ID is the tree connect's id.
	ID uint32
	// Share is the share's name.
	Share string
	// User is the account of the session the tree connect belongs to.
	User string
	// Client is the client's address.
	Client string
	// Opens is the number of opens through the tree connect.
	Opens uint32
	// Time is how long it has existed (0 when not known).
	Time time.Duration
}

// State is the live state srvsvc reports and administers: sessions, tree
// connects and opens. Package smb implements it; every method is called
// without any lock of package rpc held.
type State interface {
	// Sessions lists the established sessions.
	Sessions(ctx context.Context) []SessionInfo
	// CloseSessions ends the sessions from client (an address, "" for
	// any) of user ("" for any) and returns how many it ended.
	CloseSessions(ctx context.Context, client, user string) int
	// Files lists the open files and directories.
	Files(ctx context.Context) []FileInfo
	// CloseFile closes the open with the given id; false when there is
	// none.
	CloseFile(ctx context.Context, id uint32) bool
	// Connections lists the tree connects.
	Connections(ctx context.Context) []ConnectionInfo
}
