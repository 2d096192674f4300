package smbcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cifsd/cifsd/internal/ccm"
)

// SMB2 TRANSFORM_HEADER layout (MS-SMB2 2.2.41).
const (
	// TransformHeaderSize is the size of the SMB2 TRANSFORM_HEADER.
	TransformHeaderSize = 52
	// TagSize is the size of the Signature field, the AEAD tag.
	TagSize = 16

	offTfSignature = 4
	offTfNonce     = 20
	offTfOrigSize  = 36
	offTfReserved  = 40
	offTfFlags     = 42
	offTfSessionID = 44
	tfNonceSize    = 16
	// transformEncrypted is Flags/EncryptionAlgorithm = 0x0001: encrypted
	// with the negotiated cipher (MS-SMB2 2.2.41, 3.1.4.3).
	transformEncrypted = 0x0001
)

// TransformProtocolID is the ProtocolId of the transform header: 0xFD 'S'
// 'M' 'B'.
var TransformProtocolID = [4]byte{0xFD, 'S', 'M', 'B'}

// Errors returned by Cipher.
var (
	ErrShortTransform = errors.New("smbcrypto: transform message shorter than its header")
	ErrNotTransform   = errors.New("smbcrypto: not an SMB2 TRANSFORM_HEADER")
	ErrBadTransform   = errors.New("smbcrypto: malformed SMB2 TRANSFORM_HEADER")
	ErrDecrypt        = errors.New("smbcrypto: message authentication failed")
	ErrShortBuffer    = errors.New("smbcrypto: buffer too short")
)

// A Cipher encrypts and decrypts SMB2 messages with one key and cipher
// (MS-SMB2 3.1.4.3, 3.3.5.2.1.1). It is safe for concurrent use.
type Cipher struct {
	id        uint16
	nonceSize int // bytes of the 16-byte Nonce field the AEAD uses
	ccm       *ccm.CCM
	gcm       cipher.AEAD
	tails     sync.Pool // *[TagSize]byte, see gcmSeal
}

// NewCipher returns a Cipher for cipher ID id (AES128CCM, AES128GCM,
// AES256CCM or AES256GCM) and a key of 16 or 32 bytes to match.
func NewCipher(id uint16, key []byte) (*Cipher, error) {
	want := 16
	if id == AES256CCM || id == AES256GCM {
		want = 32
	}
	if len(key) != want {
		return nil, fmt.Errorf("smbcrypto: cipher %#04x needs a %d-byte key, got %d", id, want, len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	c := &Cipher{id: id}
	c.tails.New = func() any { return new([TagSize]byte) }
	switch id {
	case AES128CCM, AES256CCM:
		c.nonceSize = ccm.SMBNonceSize // AES_CCM_Nonce, 11 bytes
		c.ccm, err = ccm.NewSMB(b)
	case AES128GCM, AES256GCM:
		c.nonceSize = 12 // AES_GCM_Nonce
		c.gcm, err = cipher.NewGCM(b)
	default:
		return nil, fmt.Errorf("smbcrypto: unknown cipher %#04x", id)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ID returns the cipher ID.
func (c *Cipher) ID() uint16 { return c.id }

// Encrypt encrypts one SMB2 message (a single message or a whole compound
// chain; already compressed if compression applies) for sending, as
// MS-SMB2 3.1.4.3 describes.
//
// transformHeader is the 52-byte TRANSFORM_HEADER, in which the caller has
// put the SessionId (bytes 44..52). Encrypt fills the rest: ProtocolId, a
// fresh random Nonce (11 bytes for CCM, 12 for GCM, the rest of the 16-byte
// field zero), OriginalMessageSize, Reserved, Flags = 0x0001, and finally
// the Signature, which is the AEAD tag over the header from Nonce to the end
// as associated data.
//
// The ciphertext is written to dst[:len(plaintext)]; dst may be plaintext
// itself (in place) or not overlap it at all. For GCM without allocating,
// cap(dst) must reach 16 bytes beyond len(plaintext) (the bytes there are
// preserved); otherwise one buffer of the message's size is allocated.
func (c *Cipher) Encrypt(dst, transformHeader, plaintext []byte) error {
	if len(transformHeader) < TransformHeaderSize {
		return ErrShortBuffer
	}
	h := transformHeader[:TransformHeaderSize]
	nonce := h[offTfNonce : offTfNonce+tfNonceSize]
	clear(nonce)
	if _, err := rand.Read(nonce[:c.nonceSize]); err != nil {
		return err
	}
	return c.encrypt(dst, h, plaintext)
}

// encrypt is Encrypt with the nonce already in h.
func (c *Cipher) encrypt(dst, h, plaintext []byte) error {
	n := len(plaintext)
	if len(dst) < n {
		return ErrShortBuffer
	}
	if uint64(n) > 0xFFFFFFFF {
		return fmt.Errorf("smbcrypto: message of %d bytes too large to encrypt", n)
	}
	copy(h[0:4], TransformProtocolID[:])
	binary.LittleEndian.PutUint32(h[offTfOrigSize:], uint32(n))
	binary.LittleEndian.PutUint16(h[offTfReserved:], 0)
	binary.LittleEndian.PutUint16(h[offTfFlags:], transformEncrypted)
	nonce := h[offTfNonce : offTfNonce+c.nonceSize]
	aad := h[offTfNonce:TransformHeaderSize]
	tag := h[offTfSignature : offTfSignature+TagSize]
	if c.ccm != nil {
		return c.ccm.SealDetached(dst[:n], tag, nonce, plaintext, aad)
	}
	c.gcmSeal(dst, tag, nonce, plaintext, aad)
	return nil
}

// gcmSeal seals with a detached tag. cipher.AEAD appends the tag to the
// ciphertext, so when dst has room the 16 bytes after the ciphertext are
// saved, used for the tag and restored.
func (c *Cipher) gcmSeal(dst, tag, nonce, plaintext, aad []byte) {
	n := len(plaintext)
	if cap(dst) >= n+TagSize {
		save := c.tails.Get().(*[TagSize]byte)
		ext := dst[:n+TagSize]
		copy(save[:], ext[n:])
		c.gcm.Seal(ext[:0], nonce, plaintext, aad)
		copy(tag, ext[n:])
		copy(ext[n:], save[:])
		c.tails.Put(save)
		return
	}
	out := c.gcm.Seal(nil, nonce, plaintext, aad)
	copy(dst, out[:n])
	copy(tag, out[n:])
}

// TransformSessionID returns the SessionId of a transform message, so the
// caller can find the session, and thus the Cipher, before decrypting.
func TransformSessionID(msg []byte) (uint64, error) {
	if len(msg) < TransformHeaderSize {
		return 0, ErrShortTransform
	}
	if [4]byte(msg[0:4]) != TransformProtocolID {
		return 0, ErrNotTransform
	}
	return binary.LittleEndian.Uint64(msg[offTfSessionID:]), nil
}

// Decrypt decrypts a received transform message in place (MS-SMB2
// 3.3.5.2.1.1): msg is the TRANSFORM_HEADER followed by the encrypted
// message, exactly as framed by the transport. It checks the ProtocolId,
// that Flags/EncryptionAlgorithm is 0x0001 and that OriginalMessageSize
// equals the encrypted length, then authenticates and decrypts. The
// returned plaintext aliases msg[52:]. On failure msg[52:] may be zeroed.
//
// For GCM without allocating, cap(msg) must reach 16 bytes beyond
// len(msg) (the bytes there are preserved).
func (c *Cipher) Decrypt(msg []byte) ([]byte, error) {
	if _, err := TransformSessionID(msg); err != nil {
		return nil, err
	}
	h := msg[:TransformHeaderSize]
	ct := msg[TransformHeaderSize:]
	if binary.LittleEndian.Uint16(h[offTfFlags:]) != transformEncrypted ||
		uint64(binary.LittleEndian.Uint32(h[offTfOrigSize:])) != uint64(len(ct)) {
		return nil, ErrBadTransform
	}
	nonce := h[offTfNonce : offTfNonce+c.nonceSize]
	aad := h[offTfNonce:TransformHeaderSize]
	tag := h[offTfSignature : offTfSignature+TagSize]
	if c.ccm != nil {
		if err := c.ccm.OpenDetached(ct, nonce, ct, tag, aad); err != nil {
			return nil, ErrDecrypt
		}
		return ct, nil
	}
	if err := c.gcmOpen(ct, tag, nonce, aad); err != nil {
		return nil, err
	}
	return ct, nil
}

// gcmOpen opens ct in place against a detached tag, by the same trick as
// gcmSeal.
func (c *Cipher) gcmOpen(ct, tag, nonce, aad []byte) error {
	n := len(ct)
	if cap(ct) >= n+TagSize {
		save := c.tails.Get().(*[TagSize]byte)
		ext := ct[:n+TagSize]
		copy(save[:], ext[n:])
		copy(ext[n:], tag)
		_, err := c.gcm.Open(ext[:0], nonce, ext, aad)
		copy(ext[n:], save[:])
		c.tails.Put(save)
		if err != nil {
			return ErrDecrypt
		}
		return nil
	}
	buf := make([]byte, n+TagSize)
	copy(buf, ct)
	copy(buf[n:], tag)
	if _, err := c.gcm.Open(ct[:0], nonce, buf, aad); err != nil {
		return ErrDecrypt
	}
	return nil
}
