// Package smbcrypto is the SMB2/3 cryptography the server calls: key
// derivation per dialect, message signing and verification, encryption and
// decryption of transform messages, and the SMB 3.1.1 pre-authentication
// integrity hash.
//
// Signer and Cipher are built once per session (or channel) and are safe
// for concurrent use by the goroutines serving its requests. They work in
// place on the caller's buffers and do not allocate per message in the
// steady state, except where noted.
package smbcrypto

import (
	"crypto/sha512"

	"github.com/cifsd/cifsd/internal/kdf"
)

// Dialect revision numbers (MS-SMB2 2.2.3).
const (
	Dialect202 uint16 = 0x0202
	Dialect210 uint16 = 0x0210
	Dialect300 uint16 = 0x0300
	Dialect302 uint16 = 0x0302
	Dialect311 uint16 = 0x0311
)

// Cipher IDs of SMB2_ENCRYPTION_CAPABILITIES (MS-SMB2 2.2.3.1.2).
const (
	AES128CCM uint16 = 0x0001
	AES128GCM uint16 = 0x0002
	AES256CCM uint16 = 0x0003
	AES256GCM uint16 = 0x0004
)

// SessionKeySize is the size of Session.SessionKey (MS-SMB2 3.3.1.8).
const SessionKeySize = 16

// Keys are the keys of one authenticated session, from the server's side.
type Keys struct {
	// SessionKey is Session.SessionKey: the first 16 bytes of the GSS
	// session key, right-padded with zeros if shorter (MS-SMB2 3.3.1.8).
	SessionKey []byte
	// SigningKey signs and verifies messages. For 2.0.2 and 2.1 it is
	// SessionKey; for 3.x it is derived (16 bytes).
	SigningKey []byte
	// EncryptionKey encrypts server-to-client messages: "ServerOut" for
	// 3.0/3.0.2, "SMBS2CCipherKey" for 3.1.1. Nil before 3.0. 32 bytes for
	// the AES-256 ciphers, else 16.
	EncryptionKey []byte
	// DecryptionKey decrypts client-to-server messages: "ServerIn " for
	// 3.0/3.0.2, "SMBC2SCipherKey" for 3.1.1. Nil before 3.0.
	DecryptionKey []byte
	// ApplicationKey is the key handed to applications over the session,
	// such as DCE/RPC over named pipes. For 2.x it is SessionKey.
	ApplicationKey []byte
}

// SessionKey returns Session.SessionKey for the key that authentication
// produced (MS-SMB2 3.3.1.8): its first 16 bytes, right-padded with zeros.
func SessionKey(gssKey []byte) []byte {
	k := make([]byte, SessionKeySize)
	copy(k, gssKey)
	return k
}

// DeriveKeys derives the session's keys (MS-SMB2 3.3.5.5.3 on the server,
// 3.2.5.3.1 on the client; KDF in 3.1.4.2).
//
// gssKey is the full cryptographic key from the authentication protocol
// (Session.FullSessionKey): 16 bytes from NTLM, up to 32 from Kerberos.
// DeriveKeys truncates it to Session.SessionKey itself and uses that for
// the signing and application keys, and for the encryption keys of the
// 128-bit ciphers; for AES-256-CCM and AES-256-GCM the encryption keys are
// derived from the full key with L = 256.
//
// preauthHash is Session.PreauthIntegrityHashValue and is used only for
// 3.1.1. cipher is Connection.CipherId and matters only for 3.1.1 (3.0 and
// 3.0.2 always use AES-128-CCM); pass 0 when no cipher was negotiated: the
// 128-bit encryption keys are still derived.
//
// Dialects below 3.0 get no derived keys: SigningKey and ApplicationKey are
// SessionKey. The labels and contexts are NUL-terminated strings as
// MS-SMB2 lists them; the key derivation examples in Microsoft's "SMB 2 and
// SMB 3 security in Windows 10: the anatomy of signing and cryptographic
// keys" are the tests.
func DeriveKeys(dialect uint16, gssKey []byte, preauthHash []byte, cipher uint16) Keys {
	sk := SessionKey(gssKey)
	k := Keys{SessionKey: sk}
	if dialect < Dialect300 {
		k.SigningKey = sk
		k.ApplicationKey = sk
		return k
	}
	// For AES-256 the cipher keys are 256 bits and come from the full key.
	// The signing and application keys stay 128-bit with L = 128, as
	// Windows, Samba and ksmbd compute them.
	encKey, encBits := sk, 128
	if dialect >= Dialect311 && (cipher == AES256CCM || cipher == AES256GCM) {
		encKey, encBits = gssKey, 256
	}
	if dialect >= Dialect311 {
		ctx := preauthHash
		k.SigningKey = kdf.CounterHMACSHA256(sk, []byte("SMBSigningKey\x00"), ctx, 128)
		k.ApplicationKey = kdf.CounterHMACSHA256(sk, []byte("SMBAppKey\x00"), ctx, 128)
		k.EncryptionKey = kdf.CounterHMACSHA256(encKey, []byte("SMBS2CCipherKey\x00"), ctx, encBits)
		k.DecryptionKey = kdf.CounterHMACSHA256(encKey, []byte("SMBC2SCipherKey\x00"), ctx, encBits)
		return k
	}
	k.SigningKey = kdf.CounterHMACSHA256(sk, []byte("SMB2AESCMAC\x00"), []byte("SmbSign\x00"), 128)
	k.ApplicationKey = kdf.CounterHMACSHA256(sk, []byte("SMB2APP\x00"), []byte("SmbRpc\x00"), 128)
	k.EncryptionKey = kdf.CounterHMACSHA256(sk, []byte("SMB2AESCCM\x00"), []byte("ServerOut\x00"), 128)
	k.DecryptionKey = kdf.CounterHMACSHA256(sk, []byte("SMB2AESCCM\x00"), []byte("ServerIn \x00"), 128)
	return k
}

// PreauthHash is an SMB 3.1.1 pre-authentication integrity hash value
// (Connection.PreauthIntegrityHashValue or
// Session.PreauthIntegrityHashValue), SHA-512 being the only hash
// algorithm defined (MS-SMB2 2.2.3.1.1, 3.3.5.4, 3.3.5.5). The zero value is
// the initial all-zero hash.
type PreauthHash [sha512.Size]byte

// Update sets h to SHA-512(h || msg), where msg is a whole NEGOTIATE or
// SESSION_SETUP request or response, from the SMB2 header to the end of the
// message.
func (h *PreauthHash) Update(msg []byte) {
	d := sha512.New()
	d.Write(h[:])
	d.Write(msg)
	d.Sum(h[:0])
}
