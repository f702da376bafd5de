package oauthflow

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Token formats a provider's access token comes in (docs/relay.md §1).
const (
	FormatPeatio = "peatio" // access_token is "ACCESS_KEY:SECRET_KEY"
	FormatBearer = "bearer" // access_token is sent as Authorization: Bearer
)

// Provider describes one OAuth provider: what the relay's GET /v1/providers
// lists (docs/relay.md §2), and, for locally configured public clients, the
// endpoints too (docs/config.md). The toml tags let the agent decode a
// config.toml [[provider]] table straight into it.
type Provider struct {
	ID              string            `json:"id" toml:"id"`
	Name            string            `json:"name" toml:"name"`
	TokenFormat     string            `json:"token_format" toml:"token_format"`
	DefaultLifetime Duration          `json:"default_lifetime" toml:"default_lifetime"`
	APIBase         string            `json:"api_base" toml:"api_base"`
	MePath          string            `json:"me_path" toml:"me_path"`
	Label           string            `json:"label" toml:"label"`
	AccountField    string            `json:"account_field" toml:"account_field"`
	AllowedHosts    []string          `json:"allowed_hosts" toml:"allowed_hosts"`
	DefaultParams   map[string]string `json:"default_params" toml:"default_params"`
	Scopes          []Scope           `json:"scopes" toml:"scope"`
	Fields          []Field           `json:"fields" toml:"field"`

	// Local providers only (never sent by the relay).

	// Issuer is discovered with RFC 8414, then OpenID Connect Discovery,
	// when AuthorizeURL or TokenURL is empty.
	Issuer       string `json:"issuer,omitempty" toml:"issuer"`
	AuthorizeURL string `json:"authorize_url,omitempty" toml:"authorize_url"`
	TokenURL     string `json:"token_url,omitempty" toml:"token_url"`
	RevokeURL    string `json:"revoke_url,omitempty" toml:"revoke_url"`
	ClientID     string `json:"client_id,omitempty" toml:"client_id"`
	// AuthStyle is how the client identifies itself at the token endpoint:
	// AuthParams (client_id in the body; "" means it) or AuthBasic.
	AuthStyle string `json:"auth_style,omitempty" toml:"auth_style"`
	// RevokeStyle is how a grant is revoked: RevokeRFC7009 ("" means it) or
	// RevokeDoorkeeper.
	RevokeStyle string `json:"revoke_style,omitempty" toml:"revoke_style"`
	// PKCEToProvider, when set, must be true: the device always runs PKCE
	// with a local provider, since the code comes back to the loopback.
	PKCEToProvider *bool `json:"pkce_to_provider,omitempty" toml:"pkce_to_provider"`
}

// The values of Provider.AuthStyle and Provider.RevokeStyle.
const (
	AuthParams       = "params"     // client_id (and a secret, at the relay) in the form body
	AuthBasic        = "basic"      // HTTP Basic with the client id (RFC 6749 §2.3.1)
	RevokeRFC7009    = "rfc7009"    // POST token + token_type_hint with client authentication
	RevokeDoorkeeper = "doorkeeper" // Authorization: Bearer <access token>, token=<refresh token>
)

// CheckLocal reports what is wrong with p as a local provider (one the
// device runs without a relay), or nil.
func (p Provider) CheckLocal() error {
	switch {
	case p.ID == "":
		return errors.New("id is required")
	case p.Name == "":
		return fmt.Errorf("%s: name is required", p.ID)
	case p.ClientID == "":
		return fmt.Errorf("%s: client_id is required (a public client; no secret belongs here)", p.ID)
	case p.Issuer == "" && (p.AuthorizeURL == "" || p.TokenURL == ""):
		return fmt.Errorf("%s: set issuer, or authorize_url and token_url", p.ID)
	case len(p.Scopes) == 0:
		return fmt.Errorf("%s: at least one [[provider.scope]] is required", p.ID)
	case p.AuthStyle != "" && p.AuthStyle != AuthParams && p.AuthStyle != AuthBasic:
		return fmt.Errorf("%s: auth_style %q must be %q or %q", p.ID, p.AuthStyle, AuthParams, AuthBasic)
	case p.RevokeStyle != "" && p.RevokeStyle != RevokeRFC7009 && p.RevokeStyle != RevokeDoorkeeper:
		return fmt.Errorf("%s: revoke_style %q must be %q or %q", p.ID, p.RevokeStyle, RevokeRFC7009, RevokeDoorkeeper)
	case p.PKCEToProvider != nil && !*p.PKCEToProvider:
		return fmt.Errorf("%s: pkce_to_provider = false is refused for a local provider: the code comes back to the loopback, where only PKCE keeps another process from redeeming it (use a relay for a provider that rejects PKCE)", p.ID)
	}
	return nil
}

// Scope is one scope a provider offers.
type Scope struct {
	Name        string `json:"name" toml:"name"`
	Description string `json:"description" toml:"description"`
	Default     bool   `json:"default" toml:"default"`
	Required    bool   `json:"required" toml:"required"`
}

// Field is one extra value asked at Connect time; its value is offered to
// the label template as .fields.NAME.
type Field struct {
	Name     string   `json:"name" toml:"name"`
	Label    string   `json:"label" toml:"label"`
	Kind     string   `json:"kind" toml:"kind"` // "text" or "select"
	Options  []string `json:"options,omitempty" toml:"options"`
	Required bool     `json:"required" toml:"required"`
	Default  string   `json:"default,omitempty" toml:"default"`
}

// Duration is a time.Duration written as a Go duration string ("4h") in
// JSON and TOML.
type Duration time.Duration

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText parses a Go duration string; an empty string is zero.
func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", b)
	}
	*d = Duration(v)
	return nil
}

// HostAllowed reports whether host (a host name, without port) is in
// p.AllowedHosts. Entries match exactly, ignoring case; "*.x.com" matches
// every subdomain of x.com but not x.com itself, and never an IP address.
func (p Provider) HostAllowed(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return false
	}
	isIP := net.ParseIP(strings.Trim(host, "[]")) != nil
	for _, a := range p.AllowedHosts {
		a = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a)), ".")
		if rest, ok := strings.CutPrefix(a, "*."); ok {
			if rest != "" && !isIP && strings.HasSuffix(host, "."+rest) {
				return true
			}
			continue
		}
		if a != "" && a == host {
			return true
		}
	}
	return false
}

// CheckAllowed returns an error wrapping ErrHostNotAllowed unless u's host
// is allowed for p.
func (p Provider) CheckAllowed(u *url.URL) error {
	if u.Scheme != "https" && !(u.Scheme == "http" && IsLoopbackHost(u.Hostname())) {
		return fmt.Errorf("%s: scheme %q: %w", u.Host, u.Scheme, ErrHostNotAllowed)
	}
	if !p.HostAllowed(u.Hostname()) {
		return fmt.Errorf("%s: %w", u.Hostname(), ErrHostNotAllowed)
	}
	return nil
}

// IsLoopbackHost reports whether host is a loopback IP literal (127.0.0.0/8,
// ::1) or "localhost" in any case.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkServerURL checks that raw is an absolute https URL, or http to a
// loopback host (docs/config.md), and returns it parsed.
func checkServerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", ErrURLRefused)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("url has no host: %w", ErrURLRefused)
	case u.User != nil:
		return nil, fmt.Errorf("url has user info: %w", ErrURLRefused)
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	default:
		return nil, fmt.Errorf("url %s://%s is neither https nor loopback http: %w", u.Scheme, u.Host, ErrURLRefused)
	}
	return u, nil
}
