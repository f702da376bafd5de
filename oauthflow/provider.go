package oauthflow

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/tokentray/tokentray/relayproto"
)

// Provider is a provider as the device knows it: the public profile the
// relay lists (docs/relay.md §2) or, for a local public client configured in
// config.toml, the whole profile minus the secret plus the issuer its
// endpoints may be discovered from (docs/config.md).
type Provider struct {
	relayproto.Provider
	// Issuer is discovered with RFC 8414, then OpenID Connect Discovery,
	// when AuthorizeURL or TokenURL is empty. Local providers only.
	Issuer string `json:"issuer,omitempty" toml:"issuer"`
}

// CheckAllowed returns an error wrapping ErrHostNotAllowed unless u is
// https (or http to a loopback host) and its host is in p.AllowedHosts.
func (p Provider) CheckAllowed(u *url.URL) error {
	if _, err := relayproto.CheckURL(u.Scheme + "://" + u.Host); err != nil {
		return fmt.Errorf("%s: scheme %q: %w", u.Host, u.Scheme, ErrHostNotAllowed)
	}
	if !relayproto.HostAllowed(p.AllowedHosts, u.Hostname()) {
		return fmt.Errorf("%s: %w", u.Hostname(), ErrHostNotAllowed)
	}
	return nil
}

// CheckLocal reports what is wrong with p as a local provider, one the
// device runs without a relay (docs/config.md), or nil: the profile's one
// validator (relayproto.Provider.Validate), then the direct flow's own
// rules: an issuer or both endpoints, and PKCE with the provider.
func (p Provider) CheckLocal() error {
	if err := p.Provider.Validate(); err != nil {
		return err
	}
	if p.Issuer != "" {
		if _, err := relayproto.CheckURL(p.Issuer); err != nil {
			return fmt.Errorf("issuer %q: %w", p.Issuer, err)
		}
	} else if p.AuthorizeURL == "" || p.TokenURL == "" {
		return errors.New("set issuer, or authorize_url and token_url")
	}
	if p.PKCEToProvider != nil && !*p.PKCEToProvider {
		return errors.New("pkce_to_provider = false is refused for a local provider: the code comes back to the loopback, where only PKCE keeps another process from redeeming it (use a relay for a provider that rejects PKCE)")
	}
	return nil
}
