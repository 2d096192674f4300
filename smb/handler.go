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

	sessionID uint64 // overrides the header's SessionId (SESSION_SETUP)
	treeID    uint32 // overrides the header's TreeId (TREE_CONNECT)
	// noSign: the response must not be signed (an anonymous or guest
	// session, or a failed SESSION_SETUP).
	noSign bool
	// signWith: sign with this session even though req.Session is unset
	// (the final SESSION_SETUP response).
	signWith *Session
	// signMaster: sign with Session.SigningKey, not the connection's
	// channel key (the answers to a binding request, bind.go)
	signMaster bool
	// async: the response is the interim STATUS_PENDING of an async
	// operation whose final response comes later.
	async *asyncOp
	// disconnect: drop the connection after writing (or without writing
	// when Body and Status are both zero values and drop is set).
	disconnect bool
	drop       bool
	// afterEncode sees the whole encoded response message (the 3.1.1
	// pre-authentication hash covers NEGOTIATE and SESSION_SETUP responses).
	afterEncode func(msg []byte)
}

// Status returns a response with status s and an error body.
func statusResponse(s smb2.Status) *Response { return &Response{Status: s} }

// body returns a success response whose body is produced by an encoder.
func body(size int, encode func([]byte)) *Response {
	b := make([]byte, size)
	encode(b)
	return &Response{Body: b}
}

// encoder is what every smb2 response body implements.
type encoder interface {
	Size() int
	Encode([]byte)
}

// ok returns a STATUS_SUCCESS response with the encoded body e.
func ok(e encoder) *Response { return body(e.Size(), e.Encode) }

// encodeBody encodes e into a new buffer.
func encodeBody(e encoder) []byte {
	b := make([]byte, e.Size())
	e.Encode(b)
	return b
}
