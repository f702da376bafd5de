package oauthflow

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokentray/tokentray/relayproto"
)

// Token is what a flow or a refresh yields. It holds secrets: its String,
// GoString and LogValue methods print none of them.
type Token struct {
	// TokenType is the provider's token format: relayproto.FormatPeatio or relayproto.FormatBearer.
	TokenType string
	// AccessToken is the access token exactly as the provider issued it (for
	// peatio "AK:SK"; revocation sends it back as is).
	AccessToken string
	// AccessKey and SecretKey are the peatio keys, AccessToken split on its
	// first ':'; empty for bearer tokens.
	AccessKey, SecretKey string
	// Expiry is when the access token ends: now + expires_in, else now +
	// the provider's default_lifetime; zero when neither is known.
	Expiry time.Time
	// ScopesGranted are the scopes of the response's scope (RFC 6749 §5.1),
	// or the requested ones when it has none.
	ScopesGranted []string
	// ScopesRequested are the scopes the user asked for.
	ScopesRequested []string
	// RefreshCredential is what renews the token, opaque to the device: the
	// relay's sealed, device-bound refresh blob (relay providers, the
	// "refresh" of docs/relay.md §2), or the provider's own refresh token
	// (local providers). Only the side that issued it can use it.
	RefreshCredential string
}

// String describes the token without any secret.
func (t *Token) String() string {
	if t == nil {
		return "oauthflow.Token(nil)"
	}
	return fmt.Sprintf("oauthflow.Token{%s, expiry %s, scopes %q, refresh %t}",
		t.TokenType, t.Expiry.UTC().Format(time.RFC3339), t.ScopesGranted, t.RefreshCredential != "")
}

// GoString is String, so %#v prints no secret either.
func (t *Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without any secret.
func (t *Token) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(
		slog.String("type", t.TokenType),
		slog.Time("expiry", t.Expiry),
		slog.Any("scopes", t.ScopesGranted),
	)
}

// tokenSpec is what turning a token response into a Token needs to know.
type tokenSpec struct {
	format    string
	lifetime  time.Duration
	requested []string
	fallback  []string // granted scopes when the response names none; requested if nil
	now       time.Time
}

// specFor builds the tokenSpec of provider p.
func specFor(p Provider, requested []string, now time.Time) tokenSpec {
	return tokenSpec{format: p.TokenFormat, lifetime: time.Duration(p.DefaultLifetime), requested: requested, now: now}
}

// TokenFromAnswer parses a token answer body, the relay's redeem or refresh
// answer (docs/relay.md §2), into a Token of p's format and default
// lifetime. requested are the scopes the user asked for; granted, when not
// nil, are kept when the answer names no scope (a refresh, RFC 6749 §6).
// Errors wrap ErrBadResponse and quote none of the body.
func TokenFromAnswer(body []byte, p Provider, requested, granted []string, now time.Time) (*Token, error) {
	spec := specFor(p, requested, now)
	spec.fallback = granted
	return parseTokenResponse(body, spec)
}

// tokenResponse is the JSON shape of a token answer: the relay's
// (docs/relay.md §2, refresh) and RFC 6749 §5.1's (refresh_token).
type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	Scope        string          `json:"scope"`
	Refresh      string          `json:"refresh"`
	RefreshToken string          `json:"refresh_token"`
}

// parseTokenResponse parses a token answer body into a Token. It rejects
// anything malformed with an error that quotes none of the body.
func parseTokenResponse(body []byte, spec tokenSpec) (*Token, error) {
	// json.Unmarshal reads body in place; a Decoder would keep a copy of
	// the keys in its own buffer. It also refuses trailing data.
	var r tokenResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("token response is not one JSON object: %w", ErrBadResponse)
	}
	expiresIn, err := parseExpiresIn(r.ExpiresIn)
	if err != nil {
		return nil, err
	}
	refresh := r.Refresh
	if refresh == "" {
		refresh = r.RefreshToken
	}
	return newToken(spec, r.AccessToken, r.TokenType, expiresIn, r.Scope, refresh)
}

// parseExpiresIn reads expires_in as a JSON number or a string of digits
// (some servers send "3600"); absent or null is 0.
func parseExpiresIn(raw json.RawMessage) (int64, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, nil
	}
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 10*365*24*3600 {
		return 0, fmt.Errorf("token response: expires_in is not a sane number of seconds: %w", ErrBadResponse)
	}
	return n, nil
}

// newToken checks the parts of a token answer and assembles a Token.
func newToken(spec tokenSpec, access, tokenType string, expiresIn int64, scope, refresh string) (*Token, error) {
	if access == "" {
		return nil, fmt.Errorf("token response has no access_token: %w", ErrBadResponse)
	}
	t := &Token{
		TokenType:         spec.format,
		AccessToken:       access,
		RefreshCredential: refresh,
		ScopesRequested:   append([]string(nil), spec.requested...),
	}
	switch spec.format {
	case relayproto.FormatPeatio:
		ak, sk, ok := strings.Cut(access, ":")
		if !ok || ak == "" || sk == "" {
			return nil, fmt.Errorf("peatio access_token is not ACCESS_KEY:SECRET_KEY: %w", ErrBadResponse)
		}
		t.AccessKey, t.SecretKey = ak, sk
	case relayproto.FormatBearer:
		if tokenType != "" && !strings.EqualFold(tokenType, "bearer") {
			return nil, fmt.Errorf("token_type %q is not bearer: %w", truncate(tokenType, 32), ErrBadResponse)
		}
	default:
		return nil, fmt.Errorf("unknown token format %q", truncate(spec.format, 32))
	}
	now := spec.now
	if now.IsZero() {
		now = time.Now()
	}
	switch {
	case expiresIn > 0:
		t.Expiry = now.Add(time.Duration(expiresIn) * time.Second)
	case spec.lifetime > 0:
		t.Expiry = now.Add(spec.lifetime)
	}
	// RFC 6749 §3.3: scope is a space-delimited list.
	if granted := strings.Fields(scope); len(granted) > 0 {
		t.ScopesGranted = granted
	} else if spec.fallback != nil {
		t.ScopesGranted = append([]string(nil), spec.fallback...)
	} else {
		t.ScopesGranted = append([]string(nil), spec.requested...)
	}
	return t, nil
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
