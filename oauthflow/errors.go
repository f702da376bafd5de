package oauthflow

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrTimeout reports that a flow ended without a valid callback in time.
	ErrTimeout = errors.New("no answer from the browser in time")
	// ErrHostNotAllowed reports a request to a host outside the provider's
	// allowed_hosts; nothing was sent.
	ErrHostNotAllowed = errors.New("host not in allowed_hosts")
	// ErrNoAccount reports a me-response without a usable account field.
	ErrNoAccount = errors.New("me-response has no account id")
	// ErrLabel reports a label template that does not parse or run.
	ErrLabel = errors.New("label template failed")
	// ErrIssuerMismatch reports an authorization response whose iss differs
	// from the provider's issuer (RFC 9207 §2.4).
	ErrIssuerMismatch = errors.New("authorization response from another issuer")
	// ErrBadResponse reports an answer that is not the expected shape.
	ErrBadResponse = errors.New("malformed answer")
)

// Error is a refusal by the relay or the provider, kept apart by Source. Its
// fields carry only the error code and the server's own text, never a token,
// code, verifier or state. Use errors.As to reach it.
type Error struct {
	// Code is the OAuth error code (invalid_grant, stale_proof, …), or a
	// Peatio API error code in decimal ("2010") for API calls.
	Code string
	// Description is the server's own human-readable text, verbatim.
	Description string
	// Source is relayproto.SourceRelay or relayproto.SourceProvider.
	Source string
	// HTTPStatus is the status of the answer that carried the error (0 when
	// the error came through the browser redirect).
	HTTPStatus int
	// ProviderStatus is the provider's HTTP status as reported by the relay.
	ProviderStatus int
	// ServerTime is the relay's clock (Unix seconds) on stale_proof answers.
	ServerTime int64
}

// Error formats the code, source and description.
func (e *Error) Error() string {
	src := e.Source
	if src == "" {
		src = "server"
	}
	msg := fmt.Sprintf("%s error %s", src, e.Code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is reports whether target is an *Error with the same Code (and Source,
// when target sets one), so errors.Is(err, &Error{Code: "invalid_grant"})
// works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Source == "" || t.Source == e.Source)
}

// maxBody caps every answer read from a provider.
const maxBody = 1 << 20

// redactURLError drops the URL (which may carry a query) from a *url.Error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}
