package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error sources (CONTRACTS.md §2).
const (
	sourceRelay    = "relay"
	sourceProvider = "provider"
)

// apiError is an error answered to a client as the JSON error body of CONTRACTS.md §2.
// Its text never holds a secret: descriptions are fixed strings or the provider's own.
type apiError struct {
	Status         int    `json:"-"`
	Code           string `json:"error"`
	Description    string `json:"error_description"`
	Source         string `json:"source"`
	ProviderStatus int    `json:"provider_status,omitempty"`
	ServerTime     int64  `json:"server_time,omitempty"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Description, e.Source)
}

// relayErr is one of the relay's own refusals or faults.
func relayErr(status int, code, desc string) *apiError {
	return &apiError{Status: status, Code: code, Description: desc, Source: sourceRelay}
}

func badRequest(code, desc string) *apiError {
	return relayErr(http.StatusBadRequest, code, desc)
}

func unauthorized(code, desc string) *apiError {
	return relayErr(http.StatusUnauthorized, code, desc)
}

func internalErr() *apiError {
	return relayErr(http.StatusInternalServerError, "internal", "the relay failed; see its log")
}

// writeJSON answers status with v encoded as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers e as the JSON error body.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, e)
}
