// Package ccm implements the CCM mode of operation (NIST SP 800-38C,
// RFC 3610) as a crypto/cipher.AEAD. SMB 3.x uses AES-CCM with an 11-byte
// nonce and a 16-byte tag (MS-SMB2 2.2.41, 3.1.4.3); NewCCM accepts every
// parameter set SP 800-38C allows so the published vectors can be checked.
package ccm

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math"
	"sync"
)

const blockSize = 16

// SMB parameters (MS-SMB2 2.2.41: AES_CCM_Nonce is 11 bytes; the Signature,
// i.e. the tag, is 16 bytes).
const (
	SMBNonceSize = 11
	SMBTagSize   = 16
)

var (
	errBlockSize = errors.New("ccm: cipher block size must be 16 bytes")
	errNonceSize = errors.New("ccm: nonce size must be 7..13 bytes")
	errTagSize   = errors.New("ccm: tag size must be 4, 6, 8, 10, 12, 14 or 16 bytes")
	errOpen      = errors.New("ccm: message authentication failed")
	errTooLong   = errors.New("ccm: message too long for the nonce size")
	errShortBuf  = errors.New("ccm: output buffer too short")
	errNonceLen  = errors.New("ccm: incorrect nonce length")
)

// CCM is a CCM instance. It implements crypto/cipher.AEAD and, for
// protocols that carry the tag apart from the ciphertext (SMB's transform
// header), SealDetached and OpenDetached. It is safe for concurrent use.
type CCM struct {
	b         cipher.Block
	nonceSize int
	tagSize   int
	// scratch pools the per-call block buffers: they reach Block.Encrypt
	// through an interface and would otherwise escape to the heap.
	scratch sync.Pool
}

type scratch struct {
	x, ctr, s0 [blockSize]byte
	ks         [8 * blockSize]byte // key stream for a batch of counter blocks
	ctrs       [8 * blockSize]byte
}

// NewCCM returns CCM with the given nonce size (7..13 bytes) and tag size
// (4..16 bytes, even) over the 16-byte block cipher b. The maximum
// plaintext length is 2^(8*(15-nonceSize)) - 1 bytes.
func NewCCM(b cipher.Block, nonceSize, tagSize int) (*CCM, error) {
	if b.BlockSize() != blockSize {
		return nil, errBlockSize
	}
	if nonceSize < 7 || nonceSize > 13 {
		return nil, errNonceSize
	}
	if tagSize < 4 || tagSize > 16 || tagSize%2 != 0 {
		return nil, errTagSize
	}
	return &CCM{b: b, nonceSize: nonceSize, tagSize: tagSize}, nil
}

// NewSMB returns AES-CCM with SMB's 11-byte nonce and 16-byte tag.
func NewSMB(b cipher.Block) (*CCM, error) {
	return NewCCM(b, SMBNonceSize, SMBTagSize)
}

var _ cipher.AEAD = (*CCM)(nil)

// NonceSize returns the nonce size given to NewCCM.
func (c *CCM) NonceSize() int { return c.nonceSize }

// Overhead returns the tag size given to NewCCM.
func (c *CCM) Overhead() int { return c.tagSize }

// maxLen is the largest payload the length field Q of q = 15-n bytes can
// express.
func (c *CCM) maxLen() uint64 {
	q := 15 - c.nonceSize
	if q >= 8 {
		return math.MaxUint64
	}
	return 1<<(8*q) - 1
}

func (c *CCM) get() *scratch {
	s, _ := c.scratch.Get().(*scratch)
	if s == nil {
		s = new(scratch)
	}
	return s
}

// mac computes the CBC-MAC T of SP 800-38C A.2 over B0 || encoded AAD ||
// padded payload, leaving it in s.x.
func (c *CCM) mac(s *scratch, nonce, plaintext, ad []byte) {
	q := 15 - len(nonce)
	x := s.x[:]
	// B0: flags, N, Q (A.2.1).
	flags := byte((c.tagSize-2)/2)<<3 | byte(q-1)
	if len(ad) > 0 {
		flags |= 0x40
	}
	x[0] = flags
	copy(x[1:], nonce)
	var qb [8]byte
	binary.BigEndian.PutUint64(qb[:], uint64(len(plaintext)))
	copy(x[1+len(nonce):], qb[8-q:])
	c.b.Encrypt(x, x)

	// Associated data with its length prefix (A.2.2), zero padded.
	if len(ad) > 0 {
		var hdr [10]byte
		var h int
		switch a := uint64(len(ad)); {
		case a < 1<<16-1<<8:
			binary.BigEndian.PutUint16(hdr[:], uint16(a))
			h = 2
		case a <= math.MaxUint32:
			hdr[0], hdr[1] = 0xff, 0xfe
			binary.BigEndian.PutUint32(hdr[2:], uint32(a))
			h = 6
		default:
			hdr[0], hdr[1] = 0xff, 0xff
			binary.BigEndian.PutUint64(hdr[2:], a)
			h = 10
		}
		// First block: length prefix then as much AAD as fits.
		subtle.XORBytes(x, x, hdr[:h])
		n := subtle.XORBytes(x[h:], x[h:], ad)
		c.b.Encrypt(x, x)
		c.macPadded(x, ad[n:])
	}
	c.macPadded(x, plaintext)
}

// macPadded folds p, zero padded to a whole number of blocks, into the
// CBC-MAC state x.
func (c *CCM) macPadded(x, p []byte) {
	for len(p) >= blockSize {
		subtle.XORBytes(x, x, p[:blockSize])
		c.b.Encrypt(x, x)
		p = p[blockSize:]
	}
	if len(p) > 0 {
		subtle.XORBytes(x, x, p)
		c.b.Encrypt(x, x)
	}
}

// ctr XORs src with the key stream starting at counter block 1 into dst
// (A.3), and sets s.s0 to the encryption of counter block 0.
func (c *CCM) ctr(s *scratch, nonce, dst, src []byte) {
	q := 15 - len(nonce)
	ctr := s.ctr[:]
	clear(ctr)
	ctr[0] = byte(q - 1)
	copy(ctr[1:], nonce)
	c.b.Encrypt(s.s0[:], ctr)
	// Counter block 1 onwards. The counter field is the last q bytes;
	// payloads are shorter than 2^(8q) bytes, so incrementing the block as a
	// 128-bit big-endian integer (as cipher.NewCTR does) never carries into
	// the nonce.
	ctr[15] = 1
	if len(src) >= ctrStreamMin {
		// The stdlib CTR is pipelined assembly for AES; it costs one small
		// allocation, negligible against a large payload.
		cipher.NewCTR(c.b, ctr).XORKeyStream(dst, src)
		return
	}
	i := uint64(0)
	for len(src) > 0 {
		// Build up to 8 counter blocks then encrypt them in a batch.
		nb := min((len(src)+blockSize-1)/blockSize, 8)
		for j := 0; j < nb; j++ {
			cb := s.ctrs[j*blockSize : (j+1)*blockSize]
			copy(cb, ctr)
			lo := binary.BigEndian.Uint64(cb[8:])
			binary.BigEndian.PutUint64(cb[8:], lo+i)
			c.b.Encrypt(s.ks[j*blockSize:(j+1)*blockSize], cb)
			i++
		}
		n := subtle.XORBytes(dst, src, s.ks[:nb*blockSize])
		dst, src = dst[n:], src[n:]
	}
}

// ctrStreamMin is the payload size from which ctr uses cipher.NewCTR.
const ctrStreamMin = 1024

// Seal encrypts and authenticates plaintext, authenticates
// additionalData and appends the result to dst. dst and plaintext may
// overlap exactly or not at all.
func (c *CCM) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	ret, out := sliceForAppend(dst, len(plaintext)+c.tagSize)
	if err := c.SealDetached(out[:len(plaintext)], out[len(plaintext):], nonce, plaintext, additionalData); err != nil {
		panic(err)
	}
	return ret
}

// Open authenticates and decrypts ciphertext (which ends with the tag) and
// appends the plaintext to dst. dst and ciphertext may overlap exactly or
// not at all. On failure the output is zeroed and an error returned.
func (c *CCM) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(ciphertext) < c.tagSize {
		return nil, errOpen
	}
	n := len(ciphertext) - c.tagSize
	var tag [blockSize]byte
	copy(tag[:], ciphertext[n:])
	ret, out := sliceForAppend(dst, n)
	if err := c.OpenDetached(out, nonce, ciphertext[:n], tag[:c.tagSize], additionalData); err != nil {
		return nil, err
	}
	return ret, nil
}

// SealDetached encrypts plaintext into out[:len(plaintext)] and writes the
// tag to tag[:Overhead()]. out and plaintext may overlap exactly or not at
// all. It returns an error, and writes nothing, for a nonce of the wrong
// size, a payload too long for it, or short out or tag buffers.
func (c *CCM) SealDetached(out, tag, nonce, plaintext, additionalData []byte) error {
	switch {
	case len(nonce) != c.nonceSize:
		return errNonceLen
	case uint64(len(plaintext)) > c.maxLen():
		return errTooLong
	case len(out) < len(plaintext) || len(tag) < c.tagSize:
		return errShortBuf
	}
	s := c.get()
	defer c.scratch.Put(s)
	c.mac(s, nonce, plaintext, additionalData)
	c.ctr(s, nonce, out[:len(plaintext)], plaintext)
	subtle.XORBytes(tag[:c.tagSize], s.x[:c.tagSize], s.s0[:c.tagSize])
	return nil
}

// OpenDetached checks tag and decrypts ciphertext into
// out[:len(ciphertext)]. out and ciphertext may overlap exactly or not at
// all; out may also alias tag's buffer only if it does not overlap tag.
// On failure out[:len(ciphertext)] is zeroed.
func (c *CCM) OpenDetached(out, nonce, ciphertext, tag, additionalData []byte) error {
	n := len(ciphertext)
	switch {
	case len(nonce) != c.nonceSize, len(tag) != c.tagSize, uint64(n) > c.maxLen():
		return errOpen
	case len(out) < n:
		return errShortBuf
	}
	out = out[:n]
	s := c.get()
	defer c.scratch.Put(s)
	c.ctr(s, nonce, out, ciphertext)
	c.mac(s, nonce, out, additionalData)
	subtle.XORBytes(s.x[:c.tagSize], s.x[:c.tagSize], s.s0[:c.tagSize])
	if subtle.ConstantTimeCompare(s.x[:c.tagSize], tag) != 1 {
		clear(out)
		return errOpen
	}
	return nil
}

// sliceForAppend extends in by n bytes and returns the whole slice and the
// new tail, as crypto/cipher does.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
