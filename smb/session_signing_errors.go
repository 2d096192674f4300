package smb

import (
	"encoding/binary"

	"github.com/cifsd/cifsd/smb2"
)

// Errors answered before a request reaches its session's signature check
// (an unknown session, a broken compound chain) still go to a client that
// may require signing. A client that requires signing fails a request whose
// answer comes unsigned with ACCESS_DENIED, whatever the server said; so a
// signed request is answered signed whenever its session is known here, and
// otherwise with the request's own signature echoed and the SIGNED flag set,
// as Samba answers: clients do not check the signature of the statuses a
// server gives before it can know the key (USER_SESSION_DELETED,
// NETWORK_NAME_DELETED, INVALID_PARAMETER), but they do look at the flag.

// echoSignature makes the answer to req, a signed request the server cannot
// sign (its session is unknown), carry the request's signature.
func echoSignature(req *Request) {
	h := &req.Header
	if req.Encrypted || h.Flags&smb2.FlagsSigned == 0 || req.reply.sign.by != nil || len(req.Msg) < smb2.HeaderSize {
		return
	}
	sig := [16]byte(req.Msg[48:64])
	req.afterEncode(func(msg []byte) {
		binary.LittleEndian.PutUint32(msg[16:], binary.LittleEndian.Uint32(msg[16:])|smb2.FlagsSigned)
		copy(msg[48:64], sig[:])
	})
}

// signChainError signs the error a request of a compound gets from its
// chain without being run (MS-SMB2 3.3.5.2.7.2), when the request is signed
// by its session on this connection.
func (c *conn) signChainError(req *Request) {
	h := &req.Header
	if req.Encrypted || h.Flags&smb2.FlagsSigned == 0 {
		return
	}
	id := h.SessionID
	if h.Flags&smb2.FlagsRelatedOps != 0 && id == ^uint64(0) {
		id = req.compound.sessionID
	}
	sess := c.srv.sessions.get(id)
	if sess == nil || !sess.boundTo(c) || !sess.canSign() || !sess.verify(c, req.Msg) {
		echoSignature(req)
		return
	}
	req.signed = true
	req.signWith(sess, false)
}
