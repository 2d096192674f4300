// Package cmac implements AES-CMAC (RFC 4493, NIST SP 800-38B), the MAC that
// SMB 3.x uses to sign messages (MS-SMB2 3.1.4.1).
//
// A Key holds the expanded cipher and the two subkeys; it is immutable and
// safe for concurrent use. A Digest is the streaming state of one MAC
// computation; it implements hash.Hash so a large message can be fed in
// pieces without being copied into one buffer first.
package cmac

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"hash"
	"sync"
)

// Size is the length in bytes of a CMAC tag.
const Size = 16

// BlockSize is the block size of the underlying cipher.
const BlockSize = 16

// rb is the constant R_128 of RFC 4493 section 2.3.
const rb = 0x87

// ErrBlockSize is returned by NewKey for a cipher whose block is not 16 bytes.
var ErrBlockSize = errors.New("cmac: cipher block size must be 16 bytes")

// Key is a CMAC key: the block cipher and the subkeys K1 and K2 derived from
// it (RFC 4493 section 2.3). It is safe for concurrent use.
type Key struct {
	b      cipher.Block
	k1, k2 [BlockSize]byte
	// pool recycles Digests for Sum: the state escapes through the
	// cipher.Block interface, so a stack Digest would cost an allocation.
	pool sync.Pool
}

// NewKey returns the CMAC key for the block cipher b, which must have a
// 16-byte block (AES).
func NewKey(b cipher.Block) (*Key, error) {
	if b.BlockSize() != BlockSize {
		return nil, ErrBlockSize
	}
	k := &Key{b: b}
	var l [BlockSize]byte
	b.Encrypt(l[:], l[:])
	dbl(&k.k1, &l)
	dbl(&k.k2, &k.k1)
	return k, nil
}

// NewAESKey returns the AES-CMAC key for an AES key of 16, 24 or 32 bytes.
func NewAESKey(key []byte) (*Key, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return NewKey(b)
}

// dbl sets dst to src multiplied by x in GF(2^128) (RFC 4493 section 2.3,
// "Generate_Subkey"), in constant time.
func dbl(dst, src *[BlockSize]byte) {
	msb := src[0] >> 7
	for i := 0; i < BlockSize-1; i++ {
		dst[i] = src[i]<<1 | src[i+1]>>7
	}
	dst[BlockSize-1] = src[BlockSize-1]<<1 ^ (-msb & rb) // -msb is 0x00 or 0xff
}

// Sum returns the CMAC of msg.
func (k *Key) Sum(msg []byte) [Size]byte {
	return k.SumParts(msg, nil, nil)
}

// SumParts returns the CMAC of the concatenation a || b || c without
// copying the parts together. It does not allocate in the steady state.
func (k *Key) SumParts(a, b, c []byte) [Size]byte {
	d, _ := k.pool.Get().(*Digest)
	if d == nil {
		d = new(Digest)
	}
	d.Init(k)
	d.Write(a)
	d.Write(b)
	d.Write(c)
	t := d.Sum16()
	d.k = nil
	k.pool.Put(d)
	return t
}

// Sum returns the AES-CMAC of msg under key (16, 24 or 32 bytes).
func Sum(key, msg []byte) ([Size]byte, error) {
	k, err := NewAESKey(key)
	if err != nil {
		return [Size]byte{}, err
	}
	return k.Sum(msg), nil
}

// Equal reports in constant time whether the tags a and b are equal.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// Digest is the running state of one CMAC computation. The zero value is not
// usable; call Init (or use Key.New). A Digest is not safe for concurrent use.
type Digest struct {
	k *Key
	x [BlockSize]byte // CBC-MAC chaining value
	// buf holds the last, possibly full, block written; it is processed only
	// when more data arrives, since the final block is treated specially.
	buf [BlockSize]byte
	n   int
	tmp [BlockSize]byte // scratch for Sum16, kept here so it does not escape
}

var _ hash.Hash = (*Digest)(nil)

// New returns a streaming Digest under k.
func (k *Key) New() *Digest {
	d := new(Digest)
	d.Init(k)
	return d
}

// Init resets d to compute a fresh MAC under k. It lets a caller keep the
// Digest on the stack or in a pool rather than allocate one per message.
func (d *Digest) Init(k *Key) {
	d.k = k
	d.Reset()
}

// Reset restarts the computation under the same key.
func (d *Digest) Reset() {
	d.x = [BlockSize]byte{}
	d.n = 0
}

// Size returns Size.
func (d *Digest) Size() int { return Size }

// BlockSize returns BlockSize.
func (d *Digest) BlockSize() int { return BlockSize }

// Write adds p to the message. It never returns an error.
func (d *Digest) Write(p []byte) (int, error) {
	n := len(p)
	if n == 0 {
		return 0, nil
	}
	// Top up the buffered block; it may be processed only once we know it is
	// not the last one, i.e. once more input follows.
	if d.n > 0 {
		c := copy(d.buf[d.n:], p)
		d.n += c
		p = p[c:]
		if len(p) == 0 {
			return n, nil
		}
		subtle.XORBytes(d.x[:], d.x[:], d.buf[:])
		d.k.b.Encrypt(d.x[:], d.x[:])
		d.n = 0
	}
	// Process whole blocks directly from p, keeping at least one byte back.
	for len(p) > BlockSize {
		subtle.XORBytes(d.x[:], d.x[:], p[:BlockSize])
		d.k.b.Encrypt(d.x[:], d.x[:])
		p = p[BlockSize:]
	}
	d.n = copy(d.buf[:], p)
	return n, nil
}

// Sum16 returns the tag of the message written so far without changing the
// state.
func (d *Digest) Sum16() [Size]byte {
	last := &d.tmp
	*last = [BlockSize]byte{}
	if d.n == BlockSize {
		subtle.XORBytes(last[:], d.buf[:], d.k.k1[:])
	} else {
		copy(last[:], d.buf[:d.n])
		last[d.n] = 0x80
		subtle.XORBytes(last[:], last[:], d.k.k2[:])
	}
	subtle.XORBytes(last[:], last[:], d.x[:])
	d.k.b.Encrypt(last[:], last[:])
	return *last
}

// Sum appends the tag to b and returns the result, without changing the
// state.
func (d *Digest) Sum(b []byte) []byte {
	t := d.Sum16()
	return append(b, t[:]...)
}
