package localapi

import (
	"encoding/json"
	"errors"
	"net/http"
)

// The error codes of the socket API (CONTRACTS §4), each with its HTTP status.
const (
	CodeBadRequest       = "bad_request"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeNeedsReconnect   = "needs_reconnect"
	CodeProviderError    = "provider_error"
	CodeRelayUnreachable = "relay_unreachable"
	CodeInternal         = "internal"
)

var statusOfCode = map[string]int{
	CodeBadRequest:       http.StatusBadRequest,
	CodeForbidden:        http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeNeedsReconnect:   http.StatusConflict,
	CodeProviderError:    http.StatusBadGateway,
	CodeRelayUnreachable: http.StatusServiceUnavailable,
	CodeInternal:         http.StatusInternalServerError,
}

// ErrorHeader is set (to the error code) on every error answer of the agent
// itself, and never on a provider's answer passed through the proxy.
const ErrorHeader = "X-Tokentray-Error"

// ErrorBody is the object inside every error answer: {"error":{"code","message"}}.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is an error answer of the agent, as the client sees it. Compare it
// with the sentinels below: errors.Is(err, localapi.ErrNotFound).
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
)

// ErrAgentNotRunning reports that nothing answers on the socket.
var ErrAgentNotRunning = errors.New("the tokentray agent is not running (start it with `tokentray agent` or the tray app)")

// writeError writes the one JSON error body of the API.
func writeError(w http.ResponseWriter, code, message string) {
	status, ok := statusOfCode[code]
	if !ok {
		code, status = CodeInternal, http.StatusInternalServerError
	}
	writeErrorStatus(w, status, code, message)
}

// writeErrorStatus writes the error body with a status other than the
// code's own: 405 for a wrong method, whose code is bad_request.
func writeErrorStatus(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Marks the agent's own refusals, so that a client of the proxy can tell
	// them from the provider's answers, which pass through unchanged.
	w.Header().Set(ErrorHeader, code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error ErrorBody `json:"error"`
	}{ErrorBody{Code: code, Message: message}})
}

// writeJSON writes v as a 200 JSON answer.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
