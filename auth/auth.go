// Package auth is cifsd's pluggable authentication: the Mechanism interface
// that NTLM (package ntlm) and Kerberos (package krb) implement, the SPNEGO
// negotiator that offers several of them in one exchange (Negotiate), and the
// identity a successful exchange yields.
//
// A SESSION_SETUP exchange is one security context: the server calls
// Mechanism.Start once per exchange and then Context.Accept with each token
// the client sends until Accept reports done or fails.
package auth

import (
	"context"
	"encoding/asn1"
	"errors"
	"time"
)

// Mechanism is one GSS-API security mechanism the server accepts.
type Mechanism interface {
	// OIDs lists the object identifiers the mechanism answers to in SPNEGO,
	// preferred first (Kerberos has two: RFC 4121's and Microsoft's legacy one).
	OIDs() []asn1.ObjectIdentifier
	// Start begins a new security context for one authentication exchange.
	Start(ctx context.Context) (Context, error)
}

// Context is one authentication exchange in progress.
type Context interface {
	// Accept consumes one token from the client and returns the token to send
	// back. done is true when the exchange completed successfully; then
	// Result is valid. A failed exchange returns an error: ErrLogonFailure
	// (wrapped) for bad credentials, or another error that says why.
	Accept(ctx context.Context, in []byte) (out []byte, done bool, err error)
	// Result is the outcome of a completed exchange.
	Result() *Result
}

// MICer is implemented by contexts that can sign and verify SPNEGO's
// mechListMIC with the established keys (MS-SPNG 3.1.5.1, RFC 4178 5).
type MICer interface {
	MIC(data []byte) []byte
	VerifyMIC(data, mic []byte) error
}

// Result is what a completed exchange established.
type Result struct {
	Identity
	// SessionKey is the mechanism's session key (NTLM's exported session key,
	// Kerberos' subkey or ticket key), from which SMB derives its signing and
	// encryption keys. Empty for anonymous and guest sessions.
	SessionKey []byte
	// Expires is when the authentication lapses (a Kerberos ticket's end
	// time), after which the client must re-authenticate; zero never.
	Expires time.Time
}

// Identity is an authenticated user.
type Identity struct {
	User   string
	Domain string
	// Guest is true when the client was admitted as the guest account.
	Guest bool
	// Anonymous is true for a null session (no user name, no password).
	Anonymous bool
	// SIDs are the user's and groups' security identifiers when the mechanism
	// carries them (a Kerberos PAC), in string form "S-1-5-...".
	SIDs []string
}

// Errors a Context returns, wrapped, so the server can answer with the NT
// status Windows uses.
var (
	// ErrLogonFailure: unknown user or wrong password (STATUS_LOGON_FAILURE).
	ErrLogonFailure = errors.New("auth: logon failure")
	// ErrTimeSkew: the client's clock is too far from the server's
	// (STATUS_TIME_DIFFERENCE_AT_DC).
	ErrTimeSkew = errors.New("auth: clock skew too great")
	// ErrInvalidToken: the token could not be decoded (STATUS_INVALID_PARAMETER).
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrAccessDenied: authentication is not allowed (STATUS_ACCESS_DENIED).
	ErrAccessDenied = errors.New("auth: access denied")
)
