package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cifsd/cifsd/winacl"
)

// Server answers DCE/RPC calls on the pipes of IPC$. Its zero value serves
// the interfaces with no shares, no accounts and no live state; the smb
// package fills it from its own (smb/admin_ipc.go, smb/admin_rpc.go).
type Server struct {
	// ServerName is the NetBIOS name reported (default "CIFSD").
	ServerName string
	// Domain is the workgroup reported (default "WORKGROUP").
	Domain string
	// Comment is the server comment.
	Comment string
	// Shares lists the shares, with their live use counts.
	Shares func(ctx context.Context) []ShareInfo
	// Accounts is the account directory lsarpc and samr translate and
	// enumerate; nil knows the well-known SIDs only.
	Accounts Directory
	// State is the server's live sessions, tree connects and opens that
	// srvsvc lists and closes; nil lists none.
	State State
	// Logger receives debug logs; nil is slog.Default().
	Logger *slog.Logger
	// Now is the clock (NetrRemoteTOD); nil is time.Now.
	Now func() time.Time
}

// Caller is who opened a pipe: the session's identity, as smb
// authenticated it.
type Caller struct {
	// User and Domain name the account ("" for a null session).
	User, Domain string
	// Token holds the user's SID and its groups' (smb's tokenOf).
	Token winacl.Token
	// Admin is true for members of BUILTIN\Administrators: only they may
	// see other users' sessions and files and close them.
	Admin bool
	// Guest and Anonymous mark guest and null sessions.
	Guest, Anonymous bool
	// Client is the client's address ("127.0.0.1"), as NetrSessionEnum
	// reports it.
	Client string
}

func (s *Server) serverName() string {
	if s.ServerName != "" {
		return s.ServerName
	}
	return "CIFSD"
}

func (s *Server) domain() string {
	if s.Domain != "" {
		return s.Domain
	}
	return "WORKGROUP"
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Interface is one RPC interface: its abstract syntax and its operation
// table. Every interface goes through the same binding, fragmentation,
// fault and handle machinery (pdu.go); only the table differs.
type Interface struct {
	// Name is the interface's name ("lsarpc"), for logs.
	Name         string
	uuid         [16]byte
	major, minor uint16
	ops          map[uint16]opFunc
}

// opFunc answers one operation: it decodes c.r and returns the response
// stub, or a fault status (non-zero) and no stub.
type opFunc func(c *call) ([]byte, uint32)

// call is one request being dispatched.
type call struct {
	ctx    context.Context
	s      *Server
	p      *Pipe
	r      *reader
	caller *Caller
	// fault, when set, is the answer whatever the operation returns: a
	// context handle that is not open faults with
	// nca_s_fault_context_mismatch, as RPC runtimes do (C706 appendix
	// E), before the operation could say anything.
	fault uint32
}

// Fault statuses an operation returns (MS-RPCE 2.2.2.11, MS-ERREF 2.2).
const (
	faultBadStubData   = 0x000006f7 // RPC_X_BAD_STUB_DATA
	faultAccessDenied  = 0x00000005
	faultContextMismat = 0x1c00001a // nca_s_fault_context_mismatch
)

// bad is the fault for stub data that does not decode.
func (c *call) bad() ([]byte, uint32) { return nil, faultBadStubData }

// endpoints are the pipes served and the interfaces each answers. The
// lsass endpoint answers lsarpc and samr under all of its names, as on
// Windows.
var endpoints = map[string][]*Interface{
	"srvsvc": {srvsvcInterface},
	"wkssvc": {wkssvcInterface},
	"lsarpc": {lsarpcInterface, samrInterface},
	"lsass":  {lsarpcInterface, samrInterface},
	"samr":   {samrInterface, lsarpcInterface},
	"winreg": {winregInterface},
	"netdfs": {netdfsInterface},
}

// Open returns an endpoint for the named pipe ("srvsvc", "wkssvc",
// "lsarpc", "samr", "winreg", "netdfs"; case and a "\PIPE\" prefix do not matter),
// opened by caller (nil: a null session).
func (s *Server) Open(ctx context.Context, pipe string, caller *Caller) (*Pipe, error) {
	p := strings.ToLower(strings.TrimLeft(pipe, `\`))
	p = strings.TrimPrefix(p, `pipe\`)
	ifs := endpoints[p]
	if ifs == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchPipe, pipe)
	}
	if caller == nil {
		caller = &Caller{Anonymous: true, Token: winacl.Token{User: winacl.Anonymous, Groups: []winacl.SID{winacl.Everyone}}}
	}
	return &Pipe{s: s, name: p, ifaces: ifs, caller: caller, contexts: make(map[uint16]*Interface)}, nil
}

// maxContexts bounds the presentation contexts one pipe binds.
const maxContexts = 64

func (p *Pipe) lookupInterface(uuid [16]byte, major, minor uint16) *Interface {
	for _, i := range p.ifaces {
		if i.uuid == uuid && i.major == major && minor <= i.minor {
			return i
		}
	}
	return nil
}

// dispatch runs one request through the interface's operation table.
func (p *Pipe) dispatch(ctx context.Context, iface *Interface, opnum uint16, stub []byte) ([]byte, uint32) {
	op := iface.ops[opnum]
	if op == nil {
		return nil, ncaOpRangeError
	}
	c := &call{ctx: ctx, s: p.s, p: p, r: &reader{b: stub}, caller: p.caller}
	out, fault := op(c)
	if c.fault != 0 {
		out, fault = nil, c.fault
	}
	if fault != 0 {
		p.s.logger().Debug("rpc fault", "interface", iface.Name, "opnum", opnum, "status", fmt.Sprintf("%#x", fault))
	}
	return out, fault
}

// maxHandles bounds the context handles one pipe holds.
const maxHandles = 1024

// handleTable holds a pipe's context handles (policy, domain, user and
// key handles) by their wire value.
type handleTable struct {
	m    map[[20]byte]any
	next uint32
}

// add allocates a handle for v; ok is false when the pipe holds too many.
func (t *handleTable) add(v any) (h [20]byte, ok bool) {
	if len(t.m) >= maxHandles {
		return h, false
	}
	if t.m == nil {
		t.m = make(map[[20]byte]any)
	}
	t.next++
	le.PutUint32(h[4:], t.next)
	copy(h[8:], "cifsd")
	t.m[h] = v
	return h, true
}

func (t *handleTable) close(h [20]byte) bool {
	if _, ok := t.m[h]; !ok {
		return false
	}
	delete(t.m, h)
	return true
}

// handleOf returns the object behind handle h when it is a T. A handle
// that is not open makes the call fault (call.fault).
func handleOf[T any](c *call, h [20]byte) (T, bool) {
	obj, open := c.p.handles.m[h]
	if !open {
		c.fault = faultContextMismat
	}
	v, ok := obj.(T)
	return v, ok
}
