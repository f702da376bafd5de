package localapi

import (
	"encoding/json"
	"net/http"
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
