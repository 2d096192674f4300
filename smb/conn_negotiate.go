package smb

import (
	"context"
	"time"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb2"
)

// dialects cifsd implements, best first.
var serverDialects = []uint16{smb2.Dialect311, smb2.Dialect302, smb2.Dialect300, smb2.Dialect210, smb2.Dialect202}

// cipherPreference is the order ciphers are chosen in for 3.1.1
// (GCM before CCM, as Windows).
var cipherPreference = []uint16{smb2.CipherAES128GCM, smb2.CipherAES128CCM, smb2.CipherAES256GCM, smb2.CipherAES256CCM}

// signingPreference is the order signing algorithms are chosen in for 3.1.1.
var signingPreference = []uint16{smb2.SigningAESGMAC, smb2.SigningAESCMAC, smb2.SigningHMACSHA256}

// selectDialect returns the greatest dialect both sides implement within
// the server's bounds, or 0.
func (s *Server) selectDialect(offered []uint16) uint16 {
	lo, hi := s.MinDialect, s.MaxDialect
	if hi == 0 {
		hi = smb2.Dialect311
	}
	for _, d := range serverDialects {
		if d < lo || d > hi {
			continue
		}
		for _, o := range offered {
			if o == d {
				return d
			}
		}
	}
	return 0
}

// negotiate settles the dialect and capabilities (MS-SMB2 3.3.5.4).
func (s *Server) negotiate(ctx context.Context, req *Request) *Response {
	c := req.conn
	c.negMu.Lock()
	defer c.negMu.Unlock()
	if c.dialect() != 0 {
		// A second NEGOTIATE ends the connection without a reply.
		return req.dropConn()
	}
	var r smb2.NegotiateRequest
	if err := r.Decode(req.Msg); err != nil {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	if len(r.Dialects) == 0 {
		return statusResponse(smb2.StatusInvalidParameter)
	}
	d := s.selectDialect(r.Dialects)
	if d == 0 {
		return statusResponse(smb2.StatusNotSupported)
	}
	n := &c.neg
	n.clientGUID = r.ClientGuid
	n.clientCaps = r.Capabilities
	n.clientSecMode = r.SecurityMode
	n.clientDialects = r.Dialects
	n.signingReq = s.Signing == SigningRequired
	n.serverSecMode = smb2.NegotiateSigningEnabled
	if n.signingReq {
		n.serverSecMode |= smb2.NegotiateSigningRequired
	}
	if !s.DisableDFS {
		n.serverCaps |= smb2.GlobalCapDFS // referrals: dfs.go
	}
	if d >= smb2.Dialect210 {
		n.serverCaps |= smb2.GlobalCapLargeMTU
		if !s.DisableLeasing {
			n.serverCaps |= smb2.GlobalCapLeasing // leases: lease.go
		}
	}
	if d >= smb2.Dialect300 && !s.DisableDirectoryLeasing && !s.DisableLeasing && r.Capabilities&smb2.GlobalCapDirectoryLeasing != 0 {
		// Only to a client that offers it, as for encryption: one that
		// does not never asks for a directory lease, and some (impacket
		// up to 0.13) fail on every open at the share root when told.
		n.serverCaps |= smb2.GlobalCapDirectoryLeasing // lease_dir.go
	}
	if d >= smb2.Dialect300 && s.multiChannel() {
		n.serverCaps |= smb2.GlobalCapMultiChannel // session_bind.go
	}
	if (d == smb2.Dialect300 || d == smb2.Dialect302) && s.Encryption != EncryptionOff {
		if r.Capabilities&smb2.GlobalCapEncryption != 0 {
			n.serverCaps |= smb2.GlobalCapEncryption
			n.cipher = smb2.CipherAES128CCM
		}
	}

	resp := &smb2.NegotiateResponse{
		SecurityMode:    n.serverSecMode,
		DialectRevision: d,
		ServerGuid:      s.guid,
		Capabilities:    n.serverCaps,
		MaxTransactSize: c.maxIOFor(d),
		MaxReadSize:     c.maxIOFor(d),
		MaxWriteSize:    c.maxIOFor(d),
		SystemTime:      fscc.FileTime(time.Now()),
		SecurityBuffer:  s.initialToken(),
	}
	if d == smb2.Dialect311 {
		ctxs, st := s.negotiateContexts(c, &r)
		if st != smb2.StatusSuccess {
			return statusResponse(st)
		}
		resp.NegotiateContexts = ctxs
		c.preauthMu.Lock()
		c.preauth.Update(req.Msg)
		c.preauthMu.Unlock()
	}
	c.dialectV.Store(uint32(d))
	c.log.Debug("negotiated", "dialect", dialectName(d), "cipher", n.cipher, "signing", c.signingAlgorithm(), "multichannel", n.serverCaps&smb2.GlobalCapMultiChannel != 0)
	if d == smb2.Dialect311 {
		req.afterEncode(func(msg []byte) {
			c.preauthMu.Lock()
			c.preauth.Update(msg)
			c.preauthMu.Unlock()
		})
	}
	return ok(resp)
}

// maxIOFor is the READ/WRITE/transact limit offered for dialect d.
func (c *conn) maxIOFor(d uint16) uint32 {
	if d == smb2.Dialect202 {
		return smallIOSize
	}
	return maxIOSize
}

// negotiateContexts processes the 3.1.1 negotiate contexts and returns the
// server's (MS-SMB2 3.3.5.4).
func (s *Server) negotiateContexts(c *conn, r *smb2.NegotiateRequest) ([]smb2.NegotiateContext, smb2.Status) {
	var out []smb2.NegotiateContext
	n := &c.neg
	var sawPreauth, sawEncryption, sawSigning bool
	for _, nc := range r.NegotiateContexts {
		switch nc.ContextType {
		case smb2.PreauthIntegrityCapabilitiesID:
			if sawPreauth {
				return nil, smb2.StatusInvalidParameter
			}
			sawPreauth = true
			var p smb2.PreauthIntegrityCapabilities
			if err := p.Decode(nc.Data); err != nil {
				return nil, smb2.StatusInvalidParameter
			}
			found := false
			for _, h := range p.HashAlgorithms {
				if h == smb2.HashSHA512 {
					found = true
				}
			}
			if !found {
				return nil, smb2.StatusSMBNoPreauthIntegrityHashOverlap
			}
			salt := make([]byte, 32)
			randRead(salt)
			out = append(out, smb2.PreauthIntegrityCapabilities{
				HashAlgorithms: []uint16{smb2.HashSHA512}, Salt: salt,
			}.Context())
		case smb2.EncryptionCapabilitiesID:
			if sawEncryption {
				return nil, smb2.StatusInvalidParameter
			}
			sawEncryption = true
			var e smb2.EncryptionCapabilities
			if err := e.Decode(nc.Data); err != nil {
				return nil, smb2.StatusInvalidParameter
			}
			pref := s.Ciphers
			if pref == nil {
				pref = cipherPreference
			}
			if s.Encryption != EncryptionOff {
				n.cipher = pick(pref, e.Ciphers)
			}
			out = append(out, smb2.EncryptionCapabilities{Ciphers: []uint16{n.cipher}}.Context())
		case smb2.SigningCapabilitiesID:
			if sawSigning {
				return nil, smb2.StatusInvalidParameter
			}
			sawSigning = true
			var sc smb2.SigningCapabilities
			if err := sc.Decode(nc.Data); err != nil {
				return nil, smb2.StatusInvalidParameter
			}
			// HMAC-SHA256 is 0, so "no common algorithm" needs its own test.
			n.signingAlg = pick(signingPreference, sc.SigningAlgorithms)
			if n.signingAlg == 0 && !contains(sc.SigningAlgorithms, smb2.SigningHMACSHA256) {
				n.signingAlg = smb2.SigningAESCMAC
			}
			n.signingNeg = true
			out = append(out, smb2.SigningCapabilities{SigningAlgorithms: []uint16{n.signingAlg}}.Context())
		}
	}
	if !sawPreauth {
		return nil, smb2.StatusInvalidParameter
	}
	if !sawSigning {
		n.signingAlg = smb2.SigningAESCMAC
	}
	return out, smb2.StatusSuccess
}

// pick returns the first of pref that offered contains, or 0.
func pick(pref, offered []uint16) uint16 {
	for _, p := range pref {
		if contains(offered, p) {
			return p
		}
	}
	return 0
}

func contains(list []uint16, v uint16) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// initialToken is the security buffer of the NEGOTIATE response: SPNEGO's
// NegTokenInit listing the mechanisms, when Auth offers one.
func (s *Server) initialToken() []byte {
	if it, ok := s.Auth.(interface{ InitialToken() []byte }); ok {
		return it.InitialToken()
	}
	return nil
}

func dialectName(d uint16) string {
	switch d {
	case smb2.Dialect202:
		return "2.0.2"
	case smb2.Dialect210:
		return "2.1"
	case smb2.Dialect300:
		return "3.0"
	case smb2.Dialect302:
		return "3.0.2"
	case smb2.Dialect311:
		return "3.1.1"
	}
	return "unknown"
}
