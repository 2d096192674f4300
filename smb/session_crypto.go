package smb

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/smb2"
)

// sessionKeys are a session's cryptographic state (MS-SMB2 3.3.1.8).
type sessionKeys struct {
	preauth smbcrypto.PreauthHash // Session.PreauthIntegrityHashValue (3.1.1)
	signer  *smbcrypto.Signer
	enc     *smbcrypto.Cipher // server to client
	dec     *smbcrypto.Cipher // client to server
	signAlg uint16            // the signer's algorithm, which channels must match
	cipher  uint16            // Connection.CipherId of the session's connection
}

func (k *sessionKeys) canEncrypt() bool { return k.enc != nil && k.dec != nil }

func (s *Session) canSign() bool { return s.keys.signer != nil }

// deriveKeys sets up signing and encryption from the authentication's
// session key (MS-SMB2 3.3.5.5.3). The caller holds s.mu.
func (s *Session) deriveKeys(c *conn, gssKey []byte) {
	d := c.dialect()
	cipher := c.neg.cipher
	keys := smbcrypto.DeriveKeys(d, gssKey, s.keys.preauth[:], cipher)
	s.srv.logKeys(s.ID, keys)
	alg := c.signingAlgorithm()
	signer, err := smbcrypto.NewSigner(alg, keys.SigningKey)
	if err != nil {
		c.log.Error("signing key", "err", err)
		return
	}
	s.keys.signer = signer
	s.keys.signAlg = alg
	s.keys.cipher = cipher
	s.addChannel(c, signer)
	if d >= smb2.Dialect300 && cipher != 0 {
		enc, err1 := smbcrypto.NewCipher(cipher, keys.EncryptionKey)
		dec, err2 := smbcrypto.NewCipher(cipher, keys.DecryptionKey)
		if err := errors.Join(err1, err2); err != nil {
			c.log.Error("encryption keys", "err", err)
			return
		}
		s.keys.enc, s.keys.dec = enc, dec
	}
}

// signMsg signs the response msg, whose payload data follows it on the
// wire.
func signMsg(signer *smbcrypto.Signer, msg, data []byte) []byte {
	if len(data) == 0 {
		signer.Sign(msg)
		return msg
	}
	// The signature covers header, body and payload: sign a joined copy,
	// in a pooled buffer (a fresh 8 MiB one per READ costs more CPU in
	// allocation and GC than the signing itself).
	buf, release := getBuf(len(msg) + len(data))
	defer release()
	joined := buf[:len(msg)+len(data)]
	copy(joined, msg)
	copy(joined[len(msg):], data)
	signer.Sign(joined)
	copy(msg[48:64], joined[48:64])
	binary.LittleEndian.PutUint32(msg[16:], binary.LittleEndian.Uint32(joined[16:]))
	return msg
}

// verify checks the signature of a request received on c (MS-SMB2
// 3.3.5.2.4).
func (s *Session) verify(c *conn, msg []byte) bool {
	signer := s.signerOn(c)
	return signer != nil && signer.Verify(msg)
}

// encrypt wraps the plain message parts in a transform header.
// The result is a pooled buffer, returned by release once written.
func (s *Session) encrypt(bufs net.Buffers) (out []byte, release func(), err error) {
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	// 16 spare bytes let GCM seal without allocating (smbcrypto.Encrypt).
	buf, release := getBuf(smbcrypto.TransformHeaderSize + n + 16)
	out = buf[:smbcrypto.TransformHeaderSize+n]
	clear(out[:smbcrypto.TransformHeaderSize])
	p := out[smbcrypto.TransformHeaderSize:]
	off := 0
	for _, b := range bufs {
		off += copy(p[off:], b)
	}
	binary.LittleEndian.PutUint64(out[44:], s.ID)
	if err := s.keys.enc.Encrypt(p, out[:smbcrypto.TransformHeaderSize], p); err != nil {
		release()
		return nil, nil, fmt.Errorf("encrypt: %w", err)
	}
	return out, release, nil
}

// decrypt opens a transform message from the client (MS-SMB2 3.3.5.2.1.1).
func (c *conn) decrypt(frame []byte) (*Session, []byte, error) {
	id, err := smbcrypto.TransformSessionID(frame)
	if err != nil {
		return nil, nil, err
	}
	sess := c.srv.sessions.get(id)
	if sess == nil || !sess.boundTo(c) || !sess.keys.canEncrypt() {
		return nil, nil, fmt.Errorf("transform for unknown session %#x", id)
	}
	msg, err := sess.keys.dec.Decrypt(frame)
	if err != nil {
		return nil, nil, err
	}
	return sess, msg, nil
}

// encryptionRequired reports whether sessions must encrypt everything.
func (s *Server) encryptionRequired() bool { return s.Encryption == EncryptionRequired }

// logKeys writes a session's keys for Wireshark (its smb2_seskey_list UAT:
// session id as the bytes on the wire, session key, server-to-client and
// client-to-server cipher keys, in hex).
func (s *Server) logKeys(id uint64, keys smbcrypto.Keys) {
	if s.KeyLog == nil {
		return
	}
	var sid [8]byte
	binary.LittleEndian.PutUint64(sid[:], id)
	s.keyLogMu.Lock()
	defer s.keyLogMu.Unlock()
	fmt.Fprintf(s.KeyLog, "\"%x\",\"%x\",\"%x\",\"%x\"\n", sid, keys.SessionKey, keys.EncryptionKey, keys.DecryptionKey)
}

// volumeID is the share-independent volume serial reported to clients.
func (s *Server) volumeID() uint64 { return binary.LittleEndian.Uint64(s.guid[:8]) }

func randRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
}
