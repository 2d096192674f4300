package smb

import (
	"time"

	"github.com/cifsd/cifsd/fscc"
	"github.com/cifsd/cifsd/smb1"
	"github.com/cifsd/cifsd/smb2"
)

// upgradeSMB1 answers an SMB1 multi-protocol NEGOTIATE that offers SMB2
// with an SMB2 NEGOTIATE response (MS-SMB2 3.3.5.3.1): dialect 0x02FF when
// the client offers "SMB 2.???", so it sends an SMB2 NEGOTIATE next, or
// 2.0.2 when it offers only "SMB 2.002". It reports false when the client
// offers no SMB2 dialect (SMB1 serving is not enabled).
func (c *conn) upgradeSMB1(frame []byte) bool {
	dialects, err := smb1.ParseNegotiate(frame)
	if err != nil {
		c.log.Debug("SMB1 request that is not a NEGOTIATE", "err", err)
		return false
	}
	var wildcard, smb202 bool
	for _, d := range dialects {
		switch d {
		case "SMB 2.???":
			wildcard = true
		case "SMB 2.002":
			smb202 = true
		}
	}
	s := c.srv
	var d uint16
	switch {
	case wildcard && s.MaxDialect != smb2.Dialect202:
		d = smb2.DialectWildcard
	case smb202 || wildcard:
		d = smb2.Dialect202
	default:
		c.log.Debug("SMB1 client offers no SMB2 dialect", "dialects", dialects)
		return false
	}
	if s.MinDialect > smb2.Dialect202 && d == smb2.Dialect202 {
		return false
	}
	c.negMu.Lock()
	defer c.negMu.Unlock()
	n := &c.neg
	n.signingReq = s.Signing == SigningRequired
	n.serverSecMode = smb2.NegotiateSigningEnabled
	if n.signingReq {
		n.serverSecMode |= smb2.NegotiateSigningRequired
	}
	resp := &smb2.NegotiateResponse{
		SecurityMode:    n.serverSecMode,
		DialectRevision: d,
		ServerGuid:      s.guid,
		MaxTransactSize: smallIOSize,
		MaxReadSize:     smallIOSize,
		MaxWriteSize:    smallIOSize,
		SystemTime:      fscc.FileTime(time.Now()),
		SecurityBuffer:  s.initialToken(),
	}
	if d == smb2.Dialect202 {
		n.clientDialects = []uint16{smb2.Dialect202}
		c.dialectV.Store(uint32(d))
	}
	c.log.Debug("SMB1 NEGOTIATE answered with SMB2", "dialect", d)
	// The SMB1 request used message id 0; the response grants id 1.
	c.credits.consume(0, 1)
	h := smb2.Header{Command: smb2.Negotiate, Flags: smb2.FlagsServerToRedir, Credits: c.credits.grant(1, 1)}
	msg := make([]byte, smb2.HeaderSize+resp.Size())
	h.Encode(msg)
	resp.Encode(msg[smb2.HeaderSize:])
	c.send([][]byte{msg}, nil, false)
	return true
}
