package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tokentray/tokentray/relayproto"
)

// apiError is an error answered to a client as the JSON error body of docs/relay.md §2.
// Its text never holds a secret: descriptions are fixed strings or the provider's own.
type apiError struct {
	relayproto.ErrorBody
	Status int `json:"-"`
	// RetryAfter, when above 0, is sent as the Retry-After header in seconds.
	RetryAfter int `json:"-"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Description, e.Source)
}

// relayErr is one of the relay's own refusals or faults.
func relayErr(status int, code, desc string) *apiError {
	return &apiError{Status: status, ErrorBody: relayproto.ErrorBody{Code: code, Description: desc, Source: relayproto.SourceRelay}}
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

// providerBusy is the relay's refusal to call a provider whose provider_calls_per_second
// stayed spent for the whole provider_timeout: the provider was not called.
func providerBusy() *apiError {
	e := relayErr(http.StatusServiceUnavailable, "provider_busy",
		"the relay is at its call limit for this provider; try again shortly")
	e.RetryAfter = 1
	return e
}

// writeError answers e as the JSON error body, with Retry-After when e has one.
func writeError(w http.ResponseWriter, e *apiError) {
	noteOutcome(w, e)
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, e)
}
