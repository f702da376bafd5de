package relayproto

import "encoding/json"

// The bodies of the relay's HTTP API (docs/relay.md §2). The device sends the
// requests and reads the answers; the relay the other way round.

// ProvidersAnswer is the answer to GET /v1/providers; each entry is a
// Provider's Public part.
type ProvidersAnswer struct {
	Providers []Provider `json:"providers"`
}

// AuthorizeRequest is the body of POST /v1/authorize.
type AuthorizeRequest struct {
	Provider string            `json:"provider"`
	Scopes   []string          `json:"scopes"`
	Fields   map[string]string `json:"fields"`
	// Loopback is the device's redirect: http://127.0.0.1:PORT/PATH or
	// http://[::1]:PORT/PATH.
	Loopback string `json:"loopback"`
	// State is the device's own state, echoed to the loopback.
	State               string `json:"state"`
	CodeChallenge       string `json:"code_challenge"`
	CodeChallengeMethod string `json:"code_challenge_method"` // always "S256"
	// DeviceKey is the device's Ed25519 public key, base64url without padding.
	DeviceKey string `json:"device_key"`
}

// AuthorizeAnswer is the answer to POST /v1/authorize.
type AuthorizeAnswer struct {
	AuthorizeURL string `json:"authorize_url"`
}

// RedeemRequest is the body of POST /v1/redeem.
type RedeemRequest struct {
	Result       string `json:"result"`
	CodeVerifier string `json:"code_verifier"`
}

// TokenAnswer is the answer to POST /v1/redeem and POST /v1/refresh.
type TokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	// Refresh is the provider's refresh token sealed and bound to the device
	// key (docs/relay.md §3); the device sends it back as is.
	Refresh string `json:"refresh,omitempty"`
}

// RefreshRequest is the body of POST /v1/refresh.
type RefreshRequest struct {
	Provider string `json:"provider"`
	Refresh  string `json:"refresh"`
	Proof    *Proof `json:"proof"`
}

// RevokeRequest is the body of POST /v1/revoke.
type RevokeRequest struct {
	Provider    string `json:"provider"`
	Refresh     string `json:"refresh"`
	AccessToken string `json:"access_token"`
	Proof       *Proof `json:"proof"`
}

// Proof is the device's signature over one refresh or revoke request; see
// ProofMessage.
type Proof struct {
	// Sig is the Ed25519 signature of ProofMessage, base64url without padding.
	Sig string `json:"sig"`
	// TS is the time the proof was made, in whole Unix seconds; kept as sent,
	// since the signature covers its text.
	TS json.Number `json:"ts"`
	// Nonce is 16 random bytes, base64url.
	Nonce string `json:"nonce"`
}

// Error sources (docs/relay.md §2).
const (
	SourceRelay    = "relay"    // the relay refused or failed by itself
	SourceProvider = "provider" // the provider refused or could not be reached
)

// ErrorBody is every error answer of the relay's API.
type ErrorBody struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
	// Source is SourceRelay or SourceProvider.
	Source string `json:"source"`
	// ProviderStatus is the provider's HTTP status, when a provider answered.
	ProviderStatus int `json:"provider_status,omitempty"`
	// ServerTime is the relay's clock in Unix seconds, on stale_proof.
	ServerTime int64 `json:"server_time,omitempty"`
}
