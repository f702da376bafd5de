package oauthflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokentray/tokentray/relayproto"
)

// DirectConnect configures ConnectDirect.
type DirectConnect struct {
	// Provider is a local provider: ClientID plus either Issuer (discovered)
	// or AuthorizeURL and TokenURL.
	Provider Provider
	// Scopes are the scopes to request.
	Scopes []string
	// Open opens the authorize URL; see RelayConnect.Open.
	Open Opener
	// OnURL receives the authorize URL as soon as it is known.
	OnURL func(authorizeURL string)
	// HTTPClient makes the discovery and token calls; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds the wait for the browser; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for the expiry; nil means time.Now.
	Now func() time.Time
}

// ConnectDirect runs the RFC 8252 flow with a public client: discovery
// when endpoints are missing, PKCE S256 with the provider itself, the code
// to http://127.0.0.1:PORT/callback, iss checked when present (RFC 9207),
// and the code exchanged with client_id in the parameters (no secret).
// Token.RefreshCredential is the provider's refresh token.
func ConnectDirect(ctx context.Context, c DirectConnect) (*Token, error) {
	p, meta, err := resolveEndpoints(ctx, c.HTTPClient, c.Provider, true)
	if err != nil {
		return nil, fmt.Errorf("oauthflow: connect %s: %w", c.Provider.ID, err)
	}
	state, err := newState()
	if err != nil {
		return nil, fmt.Errorf("oauthflow: connect: %w", err)
	}
	verifier := oauth2.GenerateVerifier()
	var cfg *oauth2.Config
	f := &loopbackFlow{
		mode:    flowMode{direct: true, issuer: meta.Issuer, issRequired: meta.IssParameterSupported},
		state:   state,
		timeout: c.Timeout,
		open:    c.Open,
		onURL:   c.OnURL,
		start: func(_ context.Context, redirect string) (string, error) {
			cfg = oauthConfig(p, c.Scopes, redirect)
			u := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
			if _, err := relayproto.CheckURL(u); err != nil {
				return "", fmt.Errorf("authorize_url: %w", err)
			}
			return u, nil
		},
		finish: func(ctx context.Context, cb callback) (*Token, error) {
			ot, err := cfg.Exchange(withClient(ctx, c.HTTPClient), cb.code, oauth2.VerifierOption(verifier))
			if err != nil {
				return nil, tokenCallError(err)
			}
			return fromOAuth2(ot, specFor(p, c.Scopes, nowOr(c.Now)))
		},
	}
	tok, err := f.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauthflow: connect %s: %w", p.ID, err)
	}
	return tok, nil
}

// RefreshDirect renews old at a local provider with its refresh token
// (RFC 6749 §6). When the answer names no scope the old granted scopes
// stay; when it has no new refresh token the old one is kept.
func RefreshDirect(ctx context.Context, client *http.Client, p Provider, old *Token, now func() time.Time) (*Token, error) {
	if old == nil || old.RefreshCredential == "" {
		return nil, errors.New("oauthflow: refresh: no refresh token")
	}
	p, _, err := resolveEndpoints(ctx, client, p, false)
	if err != nil {
		return nil, fmt.Errorf("oauthflow: refresh %s: %w", p.ID, err)
	}
	src := oauthConfig(p, old.ScopesRequested, "").TokenSource(withClient(ctx, client),
		&oauth2.Token{RefreshToken: old.RefreshCredential, Expiry: time.Unix(1, 0)})
	ot, err := src.Token()
	if err != nil {
		return nil, fmt.Errorf("oauthflow: refresh %s: %w", p.ID, tokenCallError(err))
	}
	spec := specFor(p, old.ScopesRequested, nowOr(now))
	spec.fallback = old.ScopesGranted
	tok, err := fromOAuth2(ot, spec)
	if err != nil {
		return nil, fmt.Errorf("oauthflow: refresh %s: %w", p.ID, err)
	}
	return tok, nil
}

// RevokeDirect revokes tok at a local provider. RFC 7009 (the default): its
// refresh token (which ends the grant, §2.1) with token_type_hint
// refresh_token, or the access token when there is none, the client
// identified as AuthStyle says. Doorkeeper: the access token as Bearer and
// the refresh token as token. nil means the provider answered 200.
func RevokeDirect(ctx context.Context, client *http.Client, p Provider, tok *Token) error {
	if tok == nil {
		return errors.New("oauthflow: revoke: no token")
	}
	p, _, err := resolveEndpoints(ctx, client, p, false)
	if err != nil {
		return fmt.Errorf("oauthflow: revoke %s: %w", p.ID, err)
	}
	if p.RevokeURL == "" {
		return fmt.Errorf("oauthflow: revoke %s: provider has no revoke_url", p.ID)
	}
	u, err := relayproto.CheckURL(p.RevokeURL)
	if err != nil {
		return fmt.Errorf("oauthflow: revoke %s: %w", p.ID, err)
	}
	req, err := revokeRequest(ctx, u.String(), p, tok)
	if err != nil {
		return fmt.Errorf("oauthflow: revoke: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := clientOr(client).Do(req)
	if err != nil {
		return fmt.Errorf("oauthflow: revoke %s: %w", p.ID, redactURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("oauthflow: revoke %s: %w", p.ID, apiError(resp.StatusCode, body))
	}
	return nil
}

// revokeRequest builds the revocation request p's RevokeStyle asks for.
func revokeRequest(ctx context.Context, u string, p Provider, tok *Token) (*http.Request, error) {
	form := url.Values{}
	switch {
	case p.RevokeStyle == relayproto.RevokeDoorkeeper:
		form.Set("token", cmpOr(tok.RefreshCredential, tok.AccessToken))
	case tok.RefreshCredential != "":
		form.Set("token", tok.RefreshCredential)
		form.Set("token_type_hint", "refresh_token")
	default:
		form.Set("token", tok.AccessToken)
		form.Set("token_type_hint", "access_token")
	}
	if p.RevokeStyle != relayproto.RevokeDoorkeeper && p.AuthStyle != relayproto.AuthBasic {
		form.Set("client_id", p.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch {
	case p.RevokeStyle == relayproto.RevokeDoorkeeper:
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	case p.AuthStyle == relayproto.AuthBasic:
		// RFC 6749 §2.3.1: the client id form-encoded, and no secret.
		req.SetBasicAuth(url.QueryEscape(p.ClientID), "")
	}
	return req, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// oauthConfig is the x/oauth2 config of a public client: the client id in
// the parameters or as HTTP Basic, as p.AuthStyle says; never AutoDetect,
// which would send a failed code twice.
func oauthConfig(p Provider, scopes []string, redirect string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if p.AuthStyle == relayproto.AuthBasic {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:    p.ClientID,
		RedirectURL: redirect,
		Scopes:      scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   p.AuthorizeURL,
			TokenURL:  p.TokenURL,
			AuthStyle: style,
		},
	}
}

// resolveEndpoints fills p's endpoints by discovery from p.Issuer when
// AuthorizeURL or TokenURL is missing, and checks them. A refresh or revoke
// (fresh false) uses what an earlier discovery found within the last hour.
func resolveEndpoints(ctx context.Context, client *http.Client, p Provider, fresh bool) (Provider, Metadata, error) {
	meta := Metadata{Issuer: p.Issuer}
	if p.ClientID == "" {
		return p, meta, errors.New("provider has no client_id")
	}
	if p.AuthorizeURL == "" || p.TokenURL == "" {
		if p.Issuer == "" {
			return p, meta, errors.New("provider has neither issuer nor authorize_url and token_url")
		}
		m, ok := discovered.get(p.Issuer)
		if fresh || !ok {
			var err error
			if m, err = Discover(ctx, client, p.Issuer); err != nil {
				return p, meta, err
			}
			discovered.put(p.Issuer, m)
		}
		meta = m
		p.AuthorizeURL, p.TokenURL = m.AuthorizationEndpoint, m.TokenEndpoint
		if p.RevokeURL == "" {
			p.RevokeURL = m.RevocationEndpoint
		}
	}
	for _, u := range []string{p.AuthorizeURL, p.TokenURL} {
		if _, err := relayproto.CheckURL(u); err != nil {
			return p, meta, fmt.Errorf("endpoint: %w", err)
		}
	}
	return p, meta, nil
}

// fromOAuth2 turns an x/oauth2 token into a Token.
func fromOAuth2(ot *oauth2.Token, spec tokenSpec) (*Token, error) {
	var expiresIn int64
	if ot.ExpiresIn > 0 {
		expiresIn = ot.ExpiresIn
	} else if !ot.Expiry.IsZero() {
		expiresIn = int64(time.Until(ot.Expiry).Round(time.Second) / time.Second)
	}
	scope, _ := ot.Extra("scope").(string)
	return newToken(spec, ot.AccessToken, ot.TokenType, max(expiresIn, 0), scope, ot.RefreshToken)
}

// tokenCallError turns an x/oauth2 failure into *Error with the
// provider's own code and text (RFC 6749 §5.2), without the body.
func tokenCallError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.ErrorCode == "" {
			// x/oauth2 parses the error only when labelled application/json.
			return apiError(status, re.Body)
		}
		return &Error{Code: truncate(re.ErrorCode, 256), Description: truncate(re.ErrorDescription, maxProviderText),
			Source: relayproto.SourceProvider, HTTPStatus: status}
	}
	return fmt.Errorf("token endpoint: %w", redactURLError(err))
}

func withClient(ctx context.Context, c *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, clientOr(c))
}

func clientOr(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}

func nowOr(now func() time.Time) time.Time {
	if now == nil {
		return time.Now()
	}
	return now()
}

// Metadata is the part of RFC 8414 authorization server metadata (or
// OpenID provider metadata) the direct flow uses.
type Metadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	RevocationEndpoint            string   `json:"revocation_endpoint"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	// IssParameterSupported is RFC 9207's
	// authorization_response_iss_parameter_supported.
	IssParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
}

// Discover fetches the metadata of issuer: RFC 8414 §3
// (/.well-known/oauth-authorization-server inserted before the issuer's
// path), then OpenID Connect Discovery (/.well-known/openid-configuration
// appended). The document's issuer must equal issuer (RFC 8414 §3.3), its
// endpoints must be https (or loopback http), and S256 must be offered
// when methods are listed.
func Discover(ctx context.Context, client *http.Client, issuer string) (Metadata, error) {
	iu, err := relayproto.CheckURL(issuer)
	if err != nil {
		return Metadata{}, fmt.Errorf("discover: issuer: %w", err)
	}
	if iu.RawQuery != "" || iu.Fragment != "" {
		return Metadata{}, errors.New("discover: issuer has a query or fragment")
	}
	path := strings.TrimSuffix(iu.Path, "/")
	rfc8414 := *iu
	rfc8414.Path = "/.well-known/oauth-authorization-server" + path
	oidc := *iu
	oidc.Path = path + "/.well-known/openid-configuration"
	var errs []error
	for _, u := range []url.URL{rfc8414, oidc} {
		m, err := fetchMetadata(ctx, clientOr(client), u.String())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Issuer != issuer {
			return Metadata{}, fmt.Errorf("discover: document names issuer %q, want %q", truncate(m.Issuer, 256), issuer)
		}
		for _, e := range []string{m.AuthorizationEndpoint, m.TokenEndpoint} {
			if _, err := relayproto.CheckURL(e); err != nil {
				return Metadata{}, fmt.Errorf("discover: endpoint: %w", err)
			}
		}
		if m.RevocationEndpoint != "" {
			if _, err := relayproto.CheckURL(m.RevocationEndpoint); err != nil {
				return Metadata{}, fmt.Errorf("discover: revocation endpoint: %w", err)
			}
		}
		if len(m.CodeChallengeMethodsSupported) > 0 && !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
			return Metadata{}, errors.New("discover: provider does not offer PKCE S256")
		}
		return m, nil
	}
	return Metadata{}, fmt.Errorf("discover %s: %w", issuer, errors.Join(errs...))
}

// fetchMetadata GETs one metadata document.
func fetchMetadata(ctx context.Context, client *http.Client, u string) (Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Metadata{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Metadata{}, redactURLError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Metadata{}, fmt.Errorf("%s: status %d", u, resp.StatusCode)
	}
	var m Metadata
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&m); err != nil {
		return Metadata{}, fmt.Errorf("%s: not a metadata document: %w", u, ErrBadResponse)
	}
	return m, nil
}
