package krb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/adtype"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	gopac "github.com/jcmturner/gokrb5/v8/pac"
	"github.com/jcmturner/gokrb5/v8/types"
)

// PAC is what a ticket's Privilege Attribute Certificate (MS-PAC) says
// about the client, once its server signature verified with the service
// key.
type PAC struct {
	// SIDs are the user's SID followed by its groups' SIDs, "S-1-5-...",
	// when the PAC has a logon information buffer (Active Directory KDCs
	// write one; MIT's KDC does not).
	SIDs []string
}

// PAC buffer types (MS-PAC 2.4).
const (
	pacLogonInfo      = 1
	pacServerChecksum = 6
	pacKDCChecksum    = 7
)

// ticketPAC finds the PAC in the ticket's authorization data (MS-PAC 2.1:
// AD-WIN2K-PAC inside AD-IF-RELEVANT) and verifies it. No PAC is not an
// error; a PAC whose server signature does not verify is.
func ticketPAC(enc *messages.EncTicketPart, key types.EncryptionKey) (*PAC, error) {
	for _, ad := range enc.AuthorizationData {
		if ad.ADType != adtype.ADIfRelevant {
			continue
		}
		var inner types.AuthorizationData
		if err := inner.Unmarshal(ad.ADData); err != nil {
			continue
		}
		for _, e := range inner {
			if e.ADType == adtype.ADWin2KPAC {
				return parsePAC(e.ADData, key)
			}
		}
	}
	return nil, nil
}

// parsePAC checks the PACTYPE's buffers (MS-PAC 2.3, 2.4) and the server
// signature (2.8.1), and reads the logon information's SIDs.
func parsePAC(b []byte, key types.EncryptionKey) (*PAC, error) {
	if len(b) < 8 {
		return nil, errors.New("PAC too short")
	}
	n := binary.LittleEndian.Uint32(b)
	if n > 64 || 8+16*int(n) > len(b) {
		return nil, errors.New("PAC buffer count out of range")
	}
	zeroed := append([]byte(nil), b...)
	var serverSig []byte
	var serverType int32
	var logonInfo []byte
	for i := range int(n) {
		e := b[8+16*i:]
		typ := binary.LittleEndian.Uint32(e)
		size := uint64(binary.LittleEndian.Uint32(e[4:]))
		off := binary.LittleEndian.Uint64(e[8:])
		if off > uint64(len(b)) || size > uint64(len(b))-off {
			return nil, fmt.Errorf("PAC buffer %d out of range", typ)
		}
		buf := b[off : off+size]
		switch typ {
		case pacServerChecksum, pacKDCChecksum:
			// PAC_SIGNATURE_DATA (2.8): SignatureType, then the signature,
			// which is zeroed for the server signature's computation.
			if len(buf) < 4 {
				return nil, errors.New("PAC signature too short")
			}
			sigType := int32(binary.LittleEndian.Uint32(buf))
			sigLen := checksumSize(sigType)
			if sigLen == 0 || 4+sigLen > len(buf) {
				return nil, fmt.Errorf("PAC signature type %d", sigType)
			}
			clear(zeroed[off+4 : off+4+uint64(sigLen)])
			if typ == pacServerChecksum {
				serverType, serverSig = sigType, buf[4:4+sigLen]
			}
		case pacLogonInfo:
			logonInfo = buf
		}
	}
	if serverSig == nil {
		return nil, errors.New("PAC without a server signature")
	}
	et, err := crypto.GetChksumEtype(serverType)
	if err != nil {
		return nil, fmt.Errorf("PAC signature type %d: %w", serverType, err)
	}
	if !et.VerifyChecksum(key.KeyValue, zeroed, serverSig, keyusage.KERB_NON_KERB_CKSUM_SALT) {
		return nil, errors.New("PAC server signature does not verify")
	}
	p := &PAC{}
	if logonInfo != nil {
		p.SIDs = logonSIDs(logonInfo)
	}
	return p, nil
}

// checksumSize is the signature length of the checksum types a PAC uses
// (MS-PAC 2.8).
func checksumSize(t int32) int {
	switch t {
	case -138: // KERB_CHECKSUM_HMAC_MD5
		return 16
	case 15, 16: // HMAC_SHA1_96_AES128, HMAC_SHA1_96_AES256
		return 12
	}
	return 0
}

// logonSIDs reads KERB_VALIDATION_INFO (MS-PAC 2.5); a buffer that does
// not decode yields no SIDs rather than a refusal, as the signature
// already vouched for it.
func logonSIDs(b []byte) (sids []string) {
	defer func() {
		if recover() != nil {
			sids = nil
		}
	}()
	var k gopac.KerbValidationInfo
	if err := k.Unmarshal(b); err != nil {
		return nil
	}
	user := k.LogonDomainID.String() + "-" + strconv.FormatUint(uint64(k.UserID), 10)
	return append([]string{user}, k.GetGroupMembershipSIDs()...)
}
