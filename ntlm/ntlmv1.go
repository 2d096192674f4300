package ntlm

import (
	"bytes"
	"context"
	"crypto/des"
	"crypto/md5"
	"crypto/rc4"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/md4" //lint:ignore SA1019 NTLM is defined over MD4 (MS-NLMP 3.3.1)

	"github.com/cifsd/cifsd/auth"
)

// authenticateV1 checks an NTLMv1 response (MS-NLMP 3.3.1), with or
// without extended session security, for a Mechanism that admits them
// (AllowNTLMv1). NTLMv1 falls to offline cracking of a captured exchange:
// every logon through it is logged as insecure.
func (c *serverContext) authenticateV1(ctx context.Context, user, domain string, lmResp, ntResp, encKey []byte, flags uint32) error {
	hash, err := c.m.Store.LookupNTHash(ctx, domain, user)
	if err != nil {
		if errors.Is(err, ErrNoSuchUser) && c.m.AllowGuest {
			c.result = &auth.Result{Identity: auth.Identity{User: user, Domain: domain, Guest: true}}
			return nil
		}
		return fmt.Errorf("%w: %w", auth.ErrLogonFailure, err)
	}
	ess := c.flags&flags&flagESS != 0
	chal := c.serverChal[:]
	if ess {
		// MS-NLMP 3.3.1: with extended session security the response is
		// over MD5(ServerChallenge || ClientChallenge), the client's
		// challenge being the first 8 bytes of the LM response.
		if len(lmResp) < 8 {
			return fmt.Errorf("%w: NTLMv1 extended session security without a client challenge", auth.ErrLogonFailure)
		}
		sum := md5.Sum(append(bytes.Clone(c.serverChal[:]), lmResp[:8]...))
		chal = sum[:8]
	}
	want := desl(hash, chal)
	if subtle.ConstantTimeCompare(want, ntResp) != 1 {
		return fmt.Errorf("%w: wrong password for %q (NTLMv1)", auth.ErrLogonFailure, user)
	}
	h := md4.New()
	h.Write(hash)
	baseKey := h.Sum(nil) // SessionBaseKey = MD4(NTOWFv1)
	kxKey := baseKey      // KXKEY (MS-NLMP 3.4.5.1): LM_KEY is never granted
	if ess {
		kxKey = hmacMD5(baseKey, c.serverChal[:], lmResp[:8])
	}
	exported := kxKey
	if flags&flagKeyExch != 0 && c.flags&flagKeyExch != 0 && len(encKey) == 16 {
		exported = make([]byte, 16)
		r, _ := rc4.NewCipher(kxKey)
		r.XORKeyStream(exported, encKey)
	}
	c.flags &= flags | flagTargetInfo | flagTargetTypeServer | flagRequestTarget
	c.exported = exported
	c.result = &auth.Result{Identity: auth.Identity{User: user, Domain: domain}, SessionKey: exported}
	c.m.logger().Warn("NTLMv1 logon admitted: insecure, a captured exchange can be cracked offline",
		"user", user, "domain", domain, "extended_session_security", ess)
	return nil
}

// desl is DESL(K, D) of MS-NLMP 6: D encrypted with DES under the three
// 7-byte thirds of K (its last two bytes padded with five zeros).
func desl(k, d []byte) []byte {
	key := make([]byte, 21)
	copy(key, k)
	out := make([]byte, 24)
	for i := range 3 {
		b, _ := des.NewCipher(desKey(key[7*i : 7*i+7]))
		b.Encrypt(out[8*i:], d)
	}
	return out
}

// desKey spreads 56 key bits over 8 bytes, 7 bits each (the low bit, DES's
// parity, is ignored by crypto/des).
func desKey(k []byte) []byte {
	return []byte{
		k[0],
		k[0]<<7 | k[1]>>1,
		k[1]<<6 | k[2]>>2,
		k[2]<<5 | k[3]>>3,
		k[3]<<4 | k[4]>>4,
		k[4]<<3 | k[5]>>5,
		k[5]<<2 | k[6]>>6,
		k[6] << 1,
	}
}
