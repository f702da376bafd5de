package localclient

import "errors"

// The error codes of the socket API (docs/socket-api.md).
const (
	CodeBadRequest       = "bad_request"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeNeedsReconnect   = "needs_reconnect"
	CodeProviderError    = "provider_error"
	CodeRelayUnreachable = "relay_unreachable"
	CodeInternal         = "internal"
	CodeApprovalRequired = "approval_required"
	CodeDenied           = "denied"
)

// ErrorHeader is set (to the error code) on every error answer of the agent
// itself, and never on a provider's answer passed through the proxy.
const ErrorHeader = "X-Tokentray-Error"

// ErrorBody is the object inside every error answer: {"error":{"code","message"}}.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is an error answer of the agent, as the client sees it. Compare it
// with the sentinels below: errors.Is(err, localclient.ErrNotFound).
type Error struct {
	Code    string
	Message string
	Status  int // the HTTP status; 0 for an error inside a stream
}

// Error returns the agent's message, which never holds a secret.
func (e *Error) Error() string { return e.Message }

// Is reports whether target is a sentinel *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels to compare client errors with errors.Is.
var (
	ErrBadRequest       = &Error{Code: CodeBadRequest}
	ErrForbidden        = &Error{Code: CodeForbidden}
	ErrNotFound         = &Error{Code: CodeNotFound}
	ErrNeedsReconnect   = &Error{Code: CodeNeedsReconnect}
	ErrProviderError    = &Error{Code: CodeProviderError}
	ErrRelayUnreachable = &Error{Code: CodeRelayUnreachable}
	ErrInternal         = &Error{Code: CodeInternal}
	ErrApprovalRequired = &Error{Code: CodeApprovalRequired}
	ErrDenied           = &Error{Code: CodeDenied}
)

// ErrAgentNotRunning reports that nothing answers on the socket.
var ErrAgentNotRunning = errors.New("the tokentray agent is not running (start it with `tokentray agent` or the tray app)")

// ErrEventsMissed reports an event stream the agent ended because its
// reader fell behind ("event: resync"): events were missed, and the state
// must be loaded again (EventsAfter with an opened step does that itself).
var ErrEventsMissed = errors.New("the agent ended the event stream: this client fell behind and missed events; load the state again")
