package oauthflow

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
)

// fositeProvider is a standards-style provider (ory/fosite in-process): a
// public client with PKCE S256 enforced, refresh and RFC 7009 revocation,
// RFC 8414 metadata, and a bearer me endpoint.
type fositeProvider struct {
	srv   *httptest.Server
	oauth fosite.OAuth2Provider
	store *storage.MemoryStore

	mu       sync.Mutex
	deny     bool   // answer the authorize request with access_denied
	iss      string // when set, added to the authorize redirect as iss (RFC 9207)
	oidcOnly bool   // serve only the OpenID Connect discovery document
	revoked  int
}

const fositeClient = "tokentray-public"

func newFositeProvider(t *testing.T) *fositeProvider {
	t.Helper()
	fp := &fositeProvider{store: storage.NewMemoryStore()}
	fp.store.Clients[fositeClient] = &fosite.DefaultClient{
		ID:            fositeClient,
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
	fp.oauth = compose.Compose(cfg, fp.store, compose.NewOAuth2HMACStrategy(cfg),
		compose.OAuth2AuthorizeExplicitFactory, compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2PKCEFactory, compose.OAuth2TokenRevocationFactory, compose.OAuth2TokenIntrospectionFactory)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		fp.mu.Lock()
		only := fp.oidcOnly
		fp.mu.Unlock()
		if only {
			http.NotFound(w, r)
			return
		}
		fp.serveMetadata(w, r)
	})
	mux.HandleFunc("GET /.well-known/openid-configuration", fp.serveMetadata)
	mux.HandleFunc("GET /authorize", fp.serveAuthorize)
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		ar, err := fp.oauth.NewAccessRequest(ctx, r, &fosite.DefaultSession{})
		if err != nil {
			fp.oauth.WriteAccessError(ctx, w, ar, err)
			return
		}
		resp, err := fp.oauth.NewAccessResponse(ctx, ar)
		if err != nil {
			fp.oauth.WriteAccessError(ctx, w, ar, err)
			return
		}
		fp.oauth.WriteAccessResponse(ctx, w, ar, resp)
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		err := fp.oauth.NewRevocationRequest(r.Context(), r)
		if err == nil {
			fp.mu.Lock()
			fp.revoked++
			fp.mu.Unlock()
		}
		fp.oauth.WriteRevocationResponse(r.Context(), w, err)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		tok := fosite.AccessTokenFromRequest(r)
		_, ar, err := fp.oauth.IntrospectToken(r.Context(), tok, fosite.AccessToken, &fosite.DefaultSession{})
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_token", "error_description": "The access token is not active"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"sub": ar.GetSession().GetSubject(), "name": "Alice", "scope": strings.Join(ar.GetGrantedScopes(), " ")})
	})
	fp.srv = httptest.NewServer(mux)
	t.Cleanup(fp.srv.Close)
	return fp
}

func (fp *fositeProvider) serveMetadata(w http.ResponseWriter, r *http.Request) {
	u := fp.srv.URL
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": u, "authorization_endpoint": u + "/authorize", "token_endpoint": u + "/token",
		"revocation_endpoint": u + "/revoke", "code_challenge_methods_supported": []string{"S256"},
		"response_types_supported": []string{"code"},
	})
}

// serveAuthorize approves at once for user alice, granting the requested
// scopes, or denies when told to.
func (fp *fositeProvider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := fp.oauth.NewAuthorizeRequest(ctx, r)
	if err != nil {
		fp.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	fp.mu.Lock()
	deny, iss := fp.deny, fp.iss
	fp.mu.Unlock()
	if deny {
		fp.oauth.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithDescription("Alice said <no>."))
		return
	}
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	resp, err := fp.oauth.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: "alice"})
	if err != nil {
		fp.oauth.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	if iss != "" {
		resp.AddParameter("iss", iss)
	}
	fp.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// localProvider is the config.toml entry for fp.
func (fp *fositeProvider) localProvider() Provider {
	host, _ := url.Parse(fp.srv.URL)
	return Provider{
		ID: "local", Name: "Local", TokenFormat: FormatBearer, Issuer: fp.srv.URL, ClientID: fositeClient,
		APIBase: fp.srv.URL, MePath: "/me", Label: "{{.name}} at Local", AccountField: "sub",
		AllowedHosts: []string{host.Hostname()},
		Scopes:       []Scope{{Name: "read", Default: true}, {Name: "write"}},
	}
}

// checkPKCE reports whether fosite refuses a code flow without PKCE, so
// the direct-flow tests really run against an enforcing provider.
func (fp *fositeProvider) refusesWithoutPKCE(t *testing.T) bool {
	q := url.Values{"client_id": {fositeClient}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:5/callback"},
		"scope": {"read"}, "state": {"0123456789abcdef"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(fp.srv.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc != nil && loc.Query().Get("error") == "invalid_request" && loc.Query().Get("code") == ""
}
