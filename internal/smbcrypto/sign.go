package smbcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/cifsd/cifsd/internal/cmac"
)

// Signing algorithm IDs of SMB2_SIGNING_CAPABILITIES (MS-SMB2 2.2.3.1.7).
// HMAC-SHA256 is also what dialects 2.0.2 and 2.1 use, and AES-CMAC what
// 3.0, 3.0.2 and 3.1.1 use when no signing algorithm was negotiated
// (MS-SMB2 3.1.4.1).
const (
	SigningHMACSHA256 uint16 = 0x0000
	SigningAESCMAC    uint16 = 0x0001
	SigningAESGMAC    uint16 = 0x0002
)

// SigningAlgorithm returns the signing algorithm for a dialect and the
// algorithm negotiated in SMB2_SIGNING_CAPABILITIES (ignored unless the
// dialect is 3.1.1 and negotiated is true), per MS-SMB2 3.1.4.1.
func SigningAlgorithm(dialect uint16, negotiatedAlg uint16, negotiated bool) uint16 {
	switch {
	case dialect < Dialect300:
		return SigningHMACSHA256
	case dialect >= Dialect311 && negotiated:
		return negotiatedAlg
	default:
		return SigningAESCMAC
	}
}

// SMB2 header layout used here (MS-SMB2 2.2.1).
const (
	headerSize        = 64
	offFlags          = 16
	offCommand        = 12
	offMessageID      = 24
	offSignature      = 48
	signatureSize     = 16
	flagServerToRedir = 0x00000001 // SMB2_FLAGS_SERVER_TO_REDIR
	flagSigned        = 0x00000008 // SMB2_FLAGS_SIGNED
	commandCancel     = 0x000C     // SMB2 CANCEL
)

// Errors returned by Signer.Sign and NewSigner.
var (
	ErrShortMessage = errors.New("smbcrypto: message shorter than the SMB2 header")
	ErrNotSMB2      = errors.New("smbcrypto: message does not start with the SMB2 protocol id")
)

// A Signer signs and verifies SMB2 messages with one key and algorithm
// (MS-SMB2 3.1.4.1, 3.1.5.1). It is safe for concurrent use.
type Signer struct {
	alg  uint16
	cmac *cmac.Key
	gmac cipher.AEAD
	// hmacs pools keyed HMAC-SHA256 states; gmacBufs pools GMAC scratch.
	// Both keep Sign and Verify free of allocations.
	hmacs    sync.Pool
	gmacBufs sync.Pool
}

type hmacState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

type gmacScratch struct {
	nonce [12]byte
	tag   [16]byte
}

// NewSigner returns a Signer for algorithm alg (SigningHMACSHA256,
// SigningAESCMAC or SigningAESGMAC) and the signing key: any length for
// HMAC-SHA256, 16 bytes for the AES algorithms (a 32-byte key selects
// AES-256 but SMB never uses one).
func NewSigner(alg uint16, key []byte) (*Signer, error) {
	s := &Signer{alg: alg}
	switch alg {
	case SigningHMACSHA256:
		k := append([]byte(nil), key...)
		s.hmacs.New = func() any { return &hmacState{h: hmac.New(sha256.New, k)} }
	case SigningAESCMAC:
		k, err := cmac.NewAESKey(key)
		if err != nil {
			return nil, fmt.Errorf("smbcrypto: AES-CMAC signing key: %w", err)
		}
		s.cmac = k
	case SigningAESGMAC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("smbcrypto: AES-GMAC signing key: %w", err)
		}
		if s.gmac, err = cipher.NewGCM(b); err != nil {
			return nil, err
		}
		s.gmacBufs.New = func() any { return new(gmacScratch) }
	default:
		return nil, fmt.Errorf("smbcrypto: unknown signing algorithm %#04x", alg)
	}
	return s, nil
}

// Algorithm returns the signing algorithm ID.
func (s *Signer) Algorithm() uint16 { return s.alg }

func checkHeader(msg []byte) error {
	if len(msg) < headerSize {
		return ErrShortMessage
	}
	if msg[0] != 0xFE || msg[1] != 'S' || msg[2] != 'M' || msg[3] != 'B' {
		return ErrNotSMB2
	}
	return nil
}

// Sign signs msg in place: it sets SMB2_FLAGS_SIGNED, zeroes the Signature
// field, computes the signature over the whole of msg and writes it to
// msg[48:64] (MS-SMB2 3.1.4.1). msg is one message starting at its SMB2
// header; for a compound element it is the element up to NextCommand,
// padding included. For AES-GMAC the nonce is built from the header's
// MessageId, SMB2_FLAGS_SERVER_TO_REDIR and Command, so those must be final.
func (s *Signer) Sign(msg []byte) error {
	if err := checkHeader(msg); err != nil {
		return err
	}
	flags := binary.LittleEndian.Uint32(msg[offFlags:])
	binary.LittleEndian.PutUint32(msg[offFlags:], flags|flagSigned)
	sig := msg[offSignature : offSignature+signatureSize]
	clear(sig)
	s.compute(sig, msg)
	return nil
}

// Verify reports whether msg carries a valid signature (MS-SMB2 3.1.5.1),
// comparing in constant time. It does not check SMB2_FLAGS_SIGNED; the
// caller decides whether a message must be signed. Verify zeroes the
// Signature field while it computes and restores it before returning, so
// msg must not be read concurrently. A short or non-SMB2 msg is invalid.
func (s *Signer) Verify(msg []byte) bool {
	if checkHeader(msg) != nil {
		return false
	}
	field := msg[offSignature : offSignature+signatureSize]
	var got, want [signatureSize]byte
	copy(got[:], field)
	clear(field)
	s.compute(want[:], msg)
	copy(field, got[:])
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// compute writes the 16-byte signature of msg, whose Signature field is
// zero, to sig.
func (s *Signer) compute(sig, msg []byte) {
	switch s.alg {
	case SigningHMACSHA256:
		// HMAC-SHA256 truncated to 16 bytes (MS-SMB2 3.1.4.1, 2.0.2 / 2.1).
		st := s.hmacs.Get().(*hmacState)
		st.h.Reset()
		st.h.Write(msg)
		st.h.Sum(st.sum[:0])
		copy(sig, st.sum[:signatureSize])
		s.hmacs.Put(st)
	case SigningAESCMAC:
		t := s.cmac.Sum(msg)
		copy(sig, t[:])
	case SigningAESGMAC:
		// RFC 4543 GMAC: AES-GCM with the message as AAD and no plaintext.
		g := s.gmacBufs.Get().(*gmacScratch)
		gmacNonce(&g.nonce, msg)
		s.gmac.Seal(g.tag[:0], g.nonce[:], nil, msg)
		copy(sig, g.tag[:])
		s.gmacBufs.Put(g)
	}
}

// gmacNonce builds the AES-GMAC signing nonce (MS-SMB2 3.1.4.1): the
// 8-byte MessageId, then a 32-bit little-endian field whose least
// significant bit is 1 when the sender is the server (taken from
// SMB2_FLAGS_SERVER_TO_REDIR) and whose next bit is 1 for an SMB2 CANCEL
// request; the other 30 bits are zero.
func gmacNonce(n *[12]byte, msg []byte) {
	copy(n[:8], msg[offMessageID:offMessageID+8])
	var role uint32
	flags := binary.LittleEndian.Uint32(msg[offFlags:])
	if flags&flagServerToRedir != 0 {
		role |= 1
	} else if binary.LittleEndian.Uint16(msg[offCommand:]) == commandCancel {
		role |= 2
	}
	binary.LittleEndian.PutUint32(n[8:], role)
}
