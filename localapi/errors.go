package localapi

import (
	"encoding/json"
	"net/http"

	"github.com/tokentray/tokentray/localclient"
)

var statusOfCode = map[string]int{
	localclient.CodeBadRequest:       http.StatusBadRequest,
	localclient.CodeForbidden:        http.StatusForbidden,
	localclient.CodeNotFound:         http.StatusNotFound,
	localclient.CodeNeedsReconnect:   http.StatusConflict,
	localclient.CodeProviderError:    http.StatusBadGateway,
	localclient.CodeRelayUnreachable: http.StatusServiceUnavailable,
	localclient.CodeInternal:         http.StatusInternalServerError,
	localclient.CodeApprovalRequired: http.StatusForbidden,
	localclient.CodeDenied:           http.StatusForbidden,
}

// writeError writes the one JSON error body of the API.
func writeError(w http.ResponseWriter, code, message string) {
	status, ok := statusOfCode[code]
	if !ok {
		code, status = localclient.CodeInternal, http.StatusInternalServerError
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
	w.Header().Set(localclient.ErrorHeader, code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error localclient.ErrorBody `json:"error"`
	}{localclient.ErrorBody{Code: code, Message: message}})
}

// writeJSON writes v as a 200 JSON answer.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
