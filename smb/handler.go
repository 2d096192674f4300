package smb

import (
	"context"

	"github.com/cifsd/cifsd/smb2"
)

// Handler answers one SMB2 request. The server calls ServeSMB once per
// request, on a goroutine of its own; for a compound request the elements
// are served in order, one after the other.
type Handler interface {
	ServeSMB(ctx context.Context, req *Request) *Response
}

// HandlerFunc adapts a function to Handler, as http.HandlerFunc does.
type HandlerFunc func(ctx context.Context, req *Request) *Response

// ServeSMB calls f(ctx, req).
func (f HandlerFunc) ServeSMB(ctx context.Context, req *Request) *Response { return f(ctx, req) }

// Layer is one protocol layer of the handler chain: it wraps the next
// handler, in the manner of net/http middleware. An application adds its own
// layers (audit, rate limiting, a custom FSCTL) with Server.Layers.
type Layer func(next Handler) Handler

// Request is one SMB2 request (one element of a compound) as it travels down
// the handler chain. The session and tree layers fill in Session and Tree.
type Request struct {
	// Header is the request's SMB2 header.
	Header smb2.Header
	// Msg is this request's bytes, header included: the slice every body
	// decoder in package smb2 takes. It is only valid during ServeSMB.
	Msg []byte
	// Session is the authenticated session the request belongs to, once
	// the session layer has found it (nil before, and for NEGOTIATE).
	Session *Session
	// Tree is the tree connect the request belongs to, once the tree layer
	// has found it (nil for commands without a tree).
	Tree *Tree
	// Encrypted reports whether the request arrived in a transform header.
	Encrypted bool

	conn     *conn
	compound *compoundState
	signed   bool              // the request carried a valid signature
	holds    *ticket           // the frame's place in its connection's order (conn_order.go); nil out of it
	elem     int               // the request's index in its frame
	finals   []func(*Response) // OnFinal (request.go)
	reply    reply             // how the answer is sent (below)
}

// RemoteAddr is the client's network address.
func (r *Request) RemoteAddr() string { return r.conn.remoteAddr }

// Dialect is the dialect negotiated on the request's connection.
func (r *Request) Dialect() uint16 { return r.conn.dialect() }

// Response is the answer to a Request.
type Response struct {
	// Status is the NT status of the response header.
	Status smb2.Status
	// Body is the encoded response body. When nil, an error body
	// (MS-SMB2 2.2.2) is sent.
	Body []byte
	// Data is appended after Body without a copy (a READ's payload).
	Data []byte
	// Release, when set, is called once Data has been written.
	Release func()
}

// reply is how the connection sends the answer to one request: what a
// handler decides beyond the Response (the header's ids, signing, the
// interim of an async operation, the connection's end). It lives on the
// Request, which the connection owns, so a Layer that returns a Response
// of its own loses none of it; handlers set it with the Request methods
// below, and the send path (conn.go: encodeResponse, signerFor) reads it.
type reply struct {
	sessionID uint64 // the header's SessionId when not the request's (SESSION_SETUP)
	treeID    uint32 // the header's TreeId when not the request's (TREE_CONNECT)
	sign      signing
	// async: the response is the interim STATUS_PENDING of this
	// operation, whose final response comes later (conn_async.go).
	async *asyncOp
	// drop: end the connection without answering.
	drop bool
	// afterEncode sees the whole encoded response message (the 3.1.1
	// pre-authentication hash covers NEGOTIATE and SESSION_SETUP
	// responses; session_signing_errors.go echoes a signature).
	afterEncode func(msg []byte)
}

// signing is what a handler said about signing its response; signerFor
// (conn.go) turns it, the request and its session into the key, if any
// (MS-SMB2 3.3.4.1.1). The zero value signs with the request's session
// when the request was signed or the session requires signing.
type signing struct {
	// never: the response is not signed (an anonymous or guest session,
	// a failed or interim SESSION_SETUP, a request that failed its
	// signature check).
	never bool
	// by: sign with this session whether or not the request was signed,
	// and even when req.Session is unset (the final SESSION_SETUP, LOGOFF).
	by *Session
	// master: sign with by's Session.SigningKey, not its key for this
	// connection (the answers to a binding request, session_bind.go).
	master bool
}

// dropConn ends the connection without answering the request.
func (r *Request) dropConn() *Response {
	r.reply.drop = true
	return &Response{}
}

// replySession sets the response header's SessionId (SESSION_SETUP).
func (r *Request) replySession(id uint64) { r.reply.sessionID = id }

// replyTree sets the response header's TreeId (TREE_CONNECT).
func (r *Request) replyTree(id uint32) { r.reply.treeID = id }

// dontSign sends the response unsigned.
func (r *Request) dontSign() { r.reply.sign = signing{never: true} }

// signWith signs the response with sess's key for this connection, or with
// its Session.SigningKey when master is set.
func (r *Request) signWith(sess *Session, master bool) {
	r.reply.sign = signing{by: sess, master: master}
}

// afterEncode has f see the encoded response message, after what was
// registered before.
func (r *Request) afterEncode(f func(msg []byte)) {
	prev := r.reply.afterEncode
	if prev == nil {
		r.reply.afterEncode = f
		return
	}
	r.reply.afterEncode = func(msg []byte) {
		prev(msg)
		f(msg)
	}
}

// Status returns a response with status s and an error body.
func statusResponse(s smb2.Status) *Response { return &Response{Status: s} }

// smallBody bounds the bodies a response carries in its own allocation:
// CREATE without contexts (88 bytes), CLOSE, ECHO, WRITE, LOCK, FLUSH,
// SET_INFO and most QUERY_INFO answers.
const smallBody = 128

// responseWithBody is a Response and the room for a small body.
type responseWithBody struct {
	r   Response
	buf [smallBody]byte
}

// newResponse returns a success response with a body of size bytes to
// fill, one allocation for both when the body is small.
func newResponse(size int) (*Response, []byte) {
	if size > smallBody {
		b := make([]byte, size)
		return &Response{Body: b}, b
	}
	rb := &responseWithBody{}
	rb.r.Body = rb.buf[:size:size] // an append by a Layer copies, as with make
	return &rb.r, rb.r.Body
}

// encoder is what every smb2 response body implements.
type encoder interface {
	Size() int
	Encode([]byte)
}

// ok returns a STATUS_SUCCESS response with the encoded body e.
func ok(e encoder) *Response {
	r, b := newResponse(e.Size())
	e.Encode(b)
	return r
}

// encodeBody encodes e into a new buffer.
func encodeBody(e encoder) []byte {
	b := make([]byte, e.Size())
	e.Encode(b)
	return b
}
