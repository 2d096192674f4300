package smbwire

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cifsd/cifsd/internal/smbcrypto"
	"github.com/cifsd/cifsd/internal/utf16le"
	"github.com/cifsd/cifsd/ntlm"
	"github.com/cifsd/cifsd/smb2"
)

// login negotiates the client's dialect and authenticates with NTLMv2
// (MS-NLMP 3.3.2); requests that follow are signed.
func (c *Client) login(ctx context.Context, user, password string) error {
	if c.dialect == smb2.Dialect311 {
		c.preauth = new(smbcrypto.PreauthHash)
	}
	if err := c.negotiate(ctx); err != nil {
		return err
	}
	setup := func(tok []byte, ok ...smb2.Status) (smb2.Header, []byte, error) {
		b := c.start(24 + len(tok))
		le16(b, 25)
		b[3] = byte(smb2.NegotiateSigningEnabled)
		le16(b[12:], smb2.HeaderSize+24)
		le16(b[14:], uint16(len(tok)))
		copy(b[24:], tok)
		r, err := c.exchange(ctx, smb2.SessionSetup, 1, ok...)
		if err != nil {
			return r.Header, nil, err
		}
		m := r.Msg
		if c.preauth != nil && smb2.Status(r.Header.Status) == smb2.StatusMoreProcessingRequired {
			// Every SESSION_SETUP answer but the final one (MS-SMB2 3.2.5.3.1).
			c.preauth.Update(m)
		}
		if len(m) < smb2.HeaderSize+8 {
			return r.Header, nil, errors.New("short SESSION_SETUP response")
		}
		off := int(binary.LittleEndian.Uint16(m[smb2.HeaderSize+4:]))
		n := int(binary.LittleEndian.Uint16(m[smb2.HeaderSize+6:]))
		if n == 0 {
			return r.Header, nil, nil
		}
		if off < smb2.HeaderSize+8 || off+n > len(m) {
			return r.Header, nil, errors.New("SESSION_SETUP token out of bounds")
		}
		return r.Header, m[off : off+n], nil
	}
	const flags = 0x00000001 | 0x00000200 | 0x00000010 | 0x00080000 | 0x20000000 | 0x00800000
	nm := append([]byte("NTLMSSP\x00\x01\x00\x00\x00"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(nm[12:], flags)
	h, chal, err := setup(append(nm, make([]byte, 16)...), smb2.StatusMoreProcessingRequired)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.sid = h.SessionID
	c.mu.Unlock()
	if len(chal) < 48 {
		return errors.New("short NTLM challenge")
	}
	tiOff, tiLen := int(binary.LittleEndian.Uint32(chal[44:])), int(binary.LittleEndian.Uint16(chal[40:]))
	if tiOff > len(chal) || tiLen > len(chal)-tiOff {
		return errors.New("NTLM target info out of bounds")
	}
	ti := chal[tiOff : tiOff+tiLen]
	hm := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(md5.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	owf := hm(ntlm.NTHash(password), utf16le.Encode(strings.ToUpper(user)))
	blob := []byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	cc := make([]byte, 8)
	rand.Read(cc)
	blob = append(append(append(blob, cc...), 0, 0, 0, 0), ti...)
	blob = append(blob, 0, 0, 0, 0)
	proof := hm(owf, chal[24:32], blob)
	sessionKey := hm(owf, proof)
	fields := [][]byte{make([]byte, 24), append(proof, blob...), nil, utf16le.Encode(user), nil, nil}
	am := make([]byte, 88)
	copy(am, "NTLMSSP\x00\x03")
	for i, f := range fields {
		le16(am[12+8*i:], uint16(len(f)))
		le16(am[14+8*i:], uint16(len(f)))
		le32(am[16+8*i:], uint32(len(am)))
		am = append(am, f...)
	}
	le32(am[60:], flags)
	if _, _, err := setup(am); err != nil {
		return err
	}
	var preauth []byte
	if c.preauth != nil {
		preauth = c.preauth[:]
	}
	keys := smbcrypto.DeriveKeys(c.dialect, sessionKey, preauth, 0)
	signer, err := smbcrypto.NewSigner(smbcrypto.SigningAESCMAC, keys.SigningKey)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.signer, c.preauth = signer, nil
	c.mu.Unlock()
	return nil
}

// negotiate offers the client's one dialect, with large MTU (multi-credit
// requests) and, for 3.1.1, the pre-authentication integrity and
// encryption contexts go-smb2 sends too (MS-SMB2 2.2.3, 2.2.3.1).
func (c *Client) negotiate(ctx context.Context) error {
	n := 38
	caps := smb2.GlobalCapLargeMTU
	if c.dialect == smb2.Dialect311 {
		n = 102
		caps |= smb2.GlobalCapEncryption
	}
	b := c.start(n)
	le16(b, 36)
	le16(b[2:], 1)
	le16(b[4:], smb2.NegotiateSigningEnabled)
	le32(b[8:], caps)
	rand.Read(b[12:28])
	le16(b[36:], c.dialect)
	if c.dialect == smb2.Dialect311 {
		// Contexts start 8-aligned from the header: body offset 40.
		le32(b[28:], smb2.HeaderSize+40)
		le16(b[32:], 2)
		p := b[40:]
		le16(p, smb2.PreauthIntegrityCapabilitiesID)
		le16(p[2:], 38)
		le16(p[8:], 1)   // HashAlgorithmCount
		le16(p[10:], 32) // SaltLength
		le16(p[12:], smb2.HashSHA512)
		rand.Read(p[14:46])
		e := b[88:] // 40 + 46, aligned to 8
		le16(e, smb2.EncryptionCapabilitiesID)
		le16(e[2:], 6)
		le16(e[8:], 2) // CipherCount
		le16(e[10:], smbcrypto.AES128GCM)
		le16(e[12:], smbcrypto.AES128CCM)
	}
	r, err := c.exchange(ctx, smb2.Negotiate, 1)
	if err != nil {
		return err
	}
	m := r.Msg
	if len(m) < smb2.HeaderSize+64 {
		return errors.New("short NEGOTIATE response")
	}
	if c.preauth != nil {
		c.preauth.Update(m)
	}
	body := m[smb2.HeaderSize:]
	if d := binary.LittleEndian.Uint16(body[4:]); d != c.dialect {
		return fmt.Errorf("server chose dialect %#04x, not %#04x", d, c.dialect)
	}
	limit := uint32(1 << 20)
	if binary.LittleEndian.Uint32(body[24:])&smb2.GlobalCapLargeMTU == 0 {
		limit = 64 << 10
	}
	c.maxTransact = min(binary.LittleEndian.Uint32(body[28:]), limit)
	return nil
}

// treeConnect connects to the share at path (\\server\share) and keeps
// its TreeId for the requests that follow.
func (c *Client) treeConnect(ctx context.Context, path string) error {
	n := utf16le.EncodedLen(path)
	b := c.start(8 + n)
	le16(b, 9)
	le16(b[4:], smb2.HeaderSize+8)
	le16(b[6:], uint16(n))
	utf16le.Put(b[8:], path)
	r, err := c.exchange(ctx, smb2.TreeConnect, 1)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.tid = r.Header.TreeID
	c.mu.Unlock()
	return nil
}
