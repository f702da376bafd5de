package relayproto

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
)

// Token formats a provider's access token comes in (docs/relay.md §1).
const (
	FormatPeatio = "peatio" // access_token is "ACCESS_KEY:SECRET_KEY"
	FormatBearer = "bearer" // access_token is sent as Authorization: Bearer
)

// The values of Provider.AuthStyle and Provider.RevokeStyle. "" means the
// side's default: the relay's is AuthParams and RevokeDoorkeeper
// (docs/relay.md §1), a device's local provider's AuthParams and
// RevokeRFC7009 (docs/config.md).
const (
	AuthParams       = "params"     // client_id (and a secret, at the relay) in the form body
	AuthBasic        = "basic"      // HTTP Basic with the client id (RFC 6749 §2.3.1)
	RevokeRFC7009    = "rfc7009"    // POST token + token_type_hint with client authentication
	RevokeDoorkeeper = "doorkeeper" // Authorization: Bearer <access token>, token=<refresh token>
)

// MaxFields is how many Connect-time fields a provider may ask for, and how
// many values an authorize request may carry (docs/relay.md §2).
const MaxFields = 8

// Provider is a provider's profile: one [[provider]] table of the relay's
// config without its client secret (docs/relay.md §1), which a device's
// config.toml takes as well for a local provider (docs/config.md). GET
// /v1/providers lists its public part (see Public).
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

	// The rest is never listed by the relay (Public clears it).

	AuthorizeURL string `json:"authorize_url,omitempty" toml:"authorize_url"`
	TokenURL     string `json:"token_url,omitempty" toml:"token_url"`
	RevokeURL    string `json:"revoke_url,omitempty" toml:"revoke_url"`
	ClientID     string `json:"client_id,omitempty" toml:"client_id"`
	// AuthStyle is how the client identifies itself at the token endpoint:
	// AuthParams or AuthBasic; "" is the side's default.
	AuthStyle string `json:"auth_style,omitempty" toml:"auth_style"`
	// RevokeStyle is how a grant is revoked: RevokeDoorkeeper or
	// RevokeRFC7009; "" is the side's default.
	RevokeStyle string `json:"revoke_style,omitempty" toml:"revoke_style"`
	// PKCEToProvider is pkce_to_provider; nil when the file leaves it out.
	// The relay sends its own PKCE to the provider only when it is true; a
	// device always runs PKCE with a local provider and refuses false.
	PKCEToProvider *bool `json:"pkce_to_provider,omitempty" toml:"pkce_to_provider"`
}

// Scope is one scope a provider offers.
type Scope struct {
	Name        string `json:"name" toml:"name"`
	Description string `json:"description" toml:"description"`
	Default     bool   `json:"default" toml:"default"`   // ticked in the Connect dialog
	Required    bool   `json:"required" toml:"required"` // cannot be unticked
}

// Field is one extra value asked at Connect time; its value is offered to
// the label template as .fields.NAME.
type Field struct {
	Name     string   `json:"name" toml:"name"`
	Label    string   `json:"label" toml:"label"`
	Kind     string   `json:"kind" toml:"kind"` // "text" ("" means it) or "select"
	Options  []string `json:"options,omitempty" toml:"options"`
	Required bool     `json:"required" toml:"required"`
	Default  string   `json:"default,omitempty" toml:"default"`
}

// Public returns what GET /v1/providers lists of p: no client id, endpoint or
// style, and empty lists and maps rather than null.
func (p Provider) Public() Provider {
	return Provider{
		ID: p.ID, Name: p.Name, TokenFormat: p.TokenFormat, DefaultLifetime: p.DefaultLifetime,
		APIBase: p.APIBase, MePath: p.MePath, Label: p.Label, AccountField: p.AccountField,
		AllowedHosts: nonNil(p.AllowedHosts), DefaultParams: nonNilMap(p.DefaultParams),
		Scopes: nonNil(p.Scopes), Fields: nonNil(p.Fields),
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

var providerIDPattern = regexp.MustCompile(`^[a-z0-9-]+$`)

// Validate reports the first malformed value of p, or nil. It checks every
// value that is set, and what both sides require: id, name, client_id,
// token_format and at least one scope. What only one side requires it leaves
// to that side: the relay's endpoints and secret, a local provider's issuer
// or endpoints. Defaults are the caller's to fill first; a zero
// DefaultLifetime, AuthStyle or RevokeStyle passes.
func (p *Provider) Validate() error {
	switch {
	case p.ID == "":
		return errors.New("id is required")
	case !providerIDPattern.MatchString(p.ID) || len(p.ID) > 64:
		return fmt.Errorf("id %q must match [a-z0-9-]+ (at most 64)", p.ID)
	case p.Name == "":
		return errors.New("name is required")
	case p.ClientID == "":
		return errors.New("client_id is required")
	}
	for _, u := range []struct{ key, val string }{
		{"authorize_url", p.AuthorizeURL}, {"token_url", p.TokenURL},
		{"revoke_url", p.RevokeURL}, {"api_base", p.APIBase},
	} {
		if u.val == "" {
			continue
		}
		parsed, err := CheckURL(u.val)
		if err != nil {
			return fmt.Errorf("%s %q: %w", u.key, u.val, err)
		}
		if parsed.Fragment != "" {
			return fmt.Errorf("%s %q must have no fragment", u.key, u.val)
		}
	}
	if err := p.validateStyles(); err != nil {
		return err
	}
	if p.MePath != "" && !strings.HasPrefix(p.MePath, "/") {
		return fmt.Errorf("me_path %q must start with /", p.MePath)
	}
	if p.Label != "" {
		if _, err := template.New("label").Option("missingkey=zero").Parse(p.Label); err != nil {
			return fmt.Errorf("label: %w", err)
		}
	}
	for _, h := range p.AllowedHosts {
		if !validHostPattern(h) {
			return fmt.Errorf("allowed_hosts entry %q must be a host name or *.domain", h)
		}
	}
	if p.APIBase != "" {
		// The device calls api_base only when its host is allowed: a mismatch would let a
		// user consent and then fail to connect.
		u, _ := url.Parse(p.APIBase) // checked above
		if !HostAllowed(p.AllowedHosts, u.Hostname()) {
			return fmt.Errorf("api_base host %q is not in allowed_hosts %q", u.Hostname(), p.AllowedHosts)
		}
	}
	return p.validateScopesAndFields()
}

func (p *Provider) validateStyles() error {
	switch {
	case p.RevokeStyle != "" && p.RevokeStyle != RevokeDoorkeeper && p.RevokeStyle != RevokeRFC7009:
		return fmt.Errorf("revoke_style %q must be %q or %q", p.RevokeStyle, RevokeDoorkeeper, RevokeRFC7009)
	case p.AuthStyle != "" && p.AuthStyle != AuthParams && p.AuthStyle != AuthBasic:
		return fmt.Errorf("auth_style %q must be %q or %q", p.AuthStyle, AuthParams, AuthBasic)
	case p.TokenFormat == "":
		return errors.New("token_format is required")
	case p.TokenFormat != FormatPeatio && p.TokenFormat != FormatBearer:
		return fmt.Errorf("token_format %q must be %q or %q", p.TokenFormat, FormatPeatio, FormatBearer)
	case p.DefaultLifetime != 0 && time.Duration(p.DefaultLifetime) < time.Minute:
		return fmt.Errorf("default_lifetime %s must be at least 1m", p.DefaultLifetime)
	}
	return nil
}

func (p *Provider) validateScopesAndFields() error {
	if len(p.Scopes) == 0 {
		return errors.New("at least one [[provider.scope]] is required")
	}
	seen := map[string]bool{}
	for _, s := range p.Scopes {
		if s.Name == "" || strings.ContainsAny(s.Name, " \t\r\n\"\\") {
			return fmt.Errorf("scope name %q must be non-empty without spaces, quotes or backslashes", s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("scope %q: duplicate", s.Name)
		}
		seen[s.Name] = true
	}
	seen = map[string]bool{}
	for _, f := range p.Fields {
		if f.Name == "" {
			return errors.New("field name is required")
		}
		if seen[f.Name] {
			return fmt.Errorf("field %q: duplicate", f.Name)
		}
		seen[f.Name] = true
		switch f.Kind {
		case "", "text":
		case "select":
			if len(f.Options) == 0 {
				return fmt.Errorf("field %q: a select needs options", f.Name)
			}
			if f.Default != "" && !slices.Contains(f.Options, f.Default) {
				return fmt.Errorf("field %q: default %q is not an option", f.Name, f.Default)
			}
		default:
			return fmt.Errorf("field %q: kind %q must be \"text\" or \"select\"", f.Name, f.Kind)
		}
	}
	if len(p.Fields) > MaxFields {
		return fmt.Errorf("at most %d fields", MaxFields)
	}
	return nil
}

var hostPattern = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

func validHostPattern(h string) bool {
	return len(h) <= 253 && hostPattern.MatchString(h) ||
		net.ParseIP(h) != nil
}

// Duration is a time.Duration written as a short Go duration string ("4h",
// not "4h0m0s") in JSON and TOML.
type Duration time.Duration

// String writes d as a short Go duration string.
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalText writes the duration as String does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText parses a Go duration string; an empty string is zero, a
// negative duration an error.
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
