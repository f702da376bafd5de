// Package fakeoauth is a standards-style OAuth 2.0 provider run in-process
// with ory/fosite, for tests of the direct (relay-less) flow.
package fakeoauth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
)

// Provider is a standards-style OAuth 2.0 provider run in-process with
// ory/fosite: one public client (ClientID) with PKCE S256 enforced, refresh
// tokens, RFC 7009 revocation, RFC 8414 and OpenID Connect discovery, and a
// bearer-protected me endpoint (GET /me → {"sub","name","scope"}). It
// approves every authorize request at once for user alice, unless told to
// deny. It serves on URL until Close.
type Provider struct {
	URL string

	srv   *httptest.Server
	oauth fosite.OAuth2Provider
	store *storage.MemoryStore

	mu       sync.Mutex // guards the fields below
	deny     bool       // answer the authorize request with access_denied
	iss      string     // when set, added to the authorize redirect as iss (RFC 9207)
	oidcOnly bool       // serve only the OpenID Connect discovery document
	revoked  int
}

// ClientID is the provider's one registered public client.
const ClientID = "tokentray-public"

// New starts a provider on a loopback port.
func New() *Provider {
	p := &Provider{store: storage.NewMemoryStore()}
	p.store.Clients[ClientID] = &fosite.DefaultClient{
		ID:            ClientID,
		Public:        true,
		RedirectURIs:  []string{"http://127.0.0.1/callback"}, // any port (RFC 8252 §7.3)
		ResponseTypes: []string{"code"},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		Scopes:        []string{"read", "write"},
	}
	cfg := &fosite.Config{
		AccessTokenLifespan:            time.Hour,
		GlobalSecret:                   []byte("a-test-secret-of-32-bytes-length"),
		EnforcePKCE:                    true,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		RefreshTokenScopes:             []string{}, // refresh tokens without "offline"
		ScopeStrategy:                  fosite.ExactScopeStrategy,
	}
	p.oauth = compose.Compose(cfg, p.store, compose.NewOAuth2HMACStrategy(cfg),
		compose.OAuth2AuthorizeExplicitFactory, compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2PKCEFactory, compose.OAuth2TokenRevocationFactory, compose.OAuth2TokenIntrospectionFactory)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		only := p.oidcOnly
		p.mu.Unlock()
		if only {
			http.NotFound(w, r)
			return
		}
		p.serveMetadata(w, r)
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", p.serveMetadata)
	mux.HandleFunc("GET /authorize", p.serveAuthorize)
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ar, err := p.oauth.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
		if err != nil {
			p.oauth.WriteAccessError(ctx, w, ar, err)
			return
		}
		resp, err := p.oauth.NewAccessResponse(ctx, ar)
		if err != nil {
			p.oauth.WriteAccessError(ctx, w, ar, err)
			return
		}
		p.oauth.WriteAccessResponse(ctx, w, ar, resp)
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		err := p.oauth.NewRevocationRequest(r.Context(), r)
		if err == nil {
			p.mu.Lock()
			p.revoked++
			p.mu.Unlock()
		}
		p.oauth.WriteRevocationResponse(r.Context(), w, err)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		tok := fosite.AccessTokenFromRequest(r)
		_, ar, err := p.oauth.IntrospectToken(r.Context(), tok, fosite.AccessToken, &fosite.DefaultSession{})
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_token", "error_description": "The access token is not active"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"sub": ar.GetSession().GetSubject(), "name": "Alice", "scope": strings.Join(ar.GetGrantedScopes(), " ")})
	})
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	return p
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// SetDeny makes authorize requests answer access_denied (true) or approve.
func (p *Provider) SetDeny(deny bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = deny
}

// SetIssuerParam makes the authorize redirect carry iss (RFC 9207); "" stops it.
func (p *Provider) SetIssuerParam(iss string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.iss = iss
}

// SetOIDCOnly makes only the OpenID Connect discovery document answer.
func (p *Provider) SetOIDCOnly(only bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.oidcOnly = only
}

// Revocations returns how many revocations the provider accepted.
func (p *Provider) Revocations() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.revoked
}

func (p *Provider) serveMetadata(w http.ResponseWriter, r *http.Request) {
	u := p.srv.URL
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
		"revocation_endpoint": u + "/revoke", "code_challenge_methods_supported": []string{"S256"},
		"response_types_supported": []string{"code"},
	})
}

// serveAuthorize approves at once for user alice, granting the requested
// scopes, or denies when told to.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := p.oauth.NewAuthorizeRequest(ctx, r)
	if err != nil {
		p.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	p.mu.Lock()
	deny, iss := p.deny, p.iss
	p.mu.Unlock()
	if deny {
		p.oauth.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithDescription("Alice said <no>."))
		return
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	resp, err := p.oauth.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: "alice"})
	if err != nil {
		p.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	if iss != "" {
		resp.AddParameter("iss", iss)
	}
	p.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}
