package oauthflow

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokentray/tokentray/relayproto"
)

// styleProvider is a local provider that records how the device called its
// token and revocation endpoints, and how often it was discovered.
type styleProvider struct {
	srv        *httptest.Server
	discovered atomic.Int32

	mu     sync.Mutex
	calls  map[string]http.Header // path → the last call's headers
	bodies map[string]url.Values  // path → the last call's form
}

func newStyleProvider(t *testing.T) *styleProvider {
	sp := &styleProvider{calls: map[string]http.Header{}, bodies: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		sp.discovered.Add(1)
		json.NewEncoder(w).Encode(Metadata{Issuer: sp.srv.URL, AuthorizationEndpoint: sp.srv.URL + "/authorize",
			TokenEndpoint: sp.srv.URL + "/token", RevocationEndpoint: sp.srv.URL + "/revoke"})
	})
	record := func(r *http.Request) {
		r.ParseForm()
		sp.mu.Lock()
		sp.calls[r.URL.Path], sp.bodies[r.URL.Path] = r.Header.Clone(), r.PostForm
		sp.mu.Unlock()
	}
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"AT2","token_type":"bearer","expires_in":3600,"refresh_token":"RT2"}`))
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) { record(r) })
	sp.srv = httptest.NewServer(mux)
	t.Cleanup(sp.srv.Close)
	return sp
}

func (sp *styleProvider) last(path string) (http.Header, url.Values) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.calls[path], sp.bodies[path]
}

func TestDirectProviderStyles(t *testing.T) {
	tests := []struct {
		name, authStyle, revokeStyle string
		tokenAuth                    string // the Authorization header of the token call
		tokenClientID                string // client_id in its form
		revokeAuth                   string
		revokeForm                   url.Values
	}{
		{"defaults", "", "", "", "pub", "",
			url.Values{"token": {"RT2"}, "token_type_hint": {"refresh_token"}, "client_id": {"pub"}}},
		{"basic", relayproto.AuthBasic, relayproto.RevokeRFC7009, "Basic cHViOg==", "", "Basic cHViOg==",
			url.Values{"token": {"RT2"}, "token_type_hint": {"refresh_token"}}},
		{"params and doorkeeper revoke", relayproto.AuthParams, relayproto.RevokeDoorkeeper, "", "pub", "Bearer AT2",
			url.Values{"token": {"RT2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := newStyleProvider(t)
			p := Provider{Provider: relayproto.Provider{ID: "x", ClientID: "pub", TokenFormat: relayproto.FormatBearer,
				AuthStyle: tt.authStyle, RevokeStyle: tt.revokeStyle,
			}, Issuer: sp.srv.URL}
			old := &Token{TokenType: relayproto.FormatBearer, AccessToken: "AT", RefreshCredential: "RT"}
			tok, err := RefreshDirect(context.Background(), nil, p, old, nil)
			if err != nil {
				t.Fatalf("RefreshDirect: %v", err)
			}
			h, form := sp.last("/token")
			if got := h.Get("Authorization"); got != tt.tokenAuth {
				t.Errorf("token call Authorization = %q, want %q", got, tt.tokenAuth)
			}
			if got := form.Get("client_id"); got != tt.tokenClientID {
				t.Errorf("token call client_id = %q, want %q", got, tt.tokenClientID)
			}
			if form.Get("refresh_token") != "RT" || form.Get("client_secret") != "" {
				t.Errorf("token call form = %v, want the refresh token and no secret", form)
			}
			if err := RevokeDirect(context.Background(), nil, p, tok); err != nil {
				t.Fatalf("RevokeDirect: %v", err)
			}
			h, form = sp.last("/revoke")
			if got := h.Get("Authorization"); got != tt.revokeAuth {
				t.Errorf("revoke Authorization = %q, want %q", got, tt.revokeAuth)
			}
			if form.Encode() != tt.revokeForm.Encode() {
				t.Errorf("revoke form = %q, want %q", form.Encode(), tt.revokeForm.Encode())
			}
			// Refresh and revoke used one discovery between them.
			if n := sp.discovered.Load(); n != 1 {
				t.Errorf("the provider was discovered %d times, want 1", n)
			}
		})
	}
}

func TestCheckLocal(t *testing.T) {
	no := false
	yes := true
	ok := Provider{Provider: relayproto.Provider{ID: "x", Name: "X", ClientID: "c", TokenFormat: relayproto.FormatBearer, Scopes: []relayproto.Scope{{Name: "read"}}}, Issuer: "https://x"}
	tests := []struct {
		name    string
		edit    func(*Provider)
		wantErr string
	}{
		{"plain", func(*Provider) {}, ""},
		{"all styles", func(p *Provider) {
			p.AuthStyle, p.RevokeStyle, p.PKCEToProvider = relayproto.AuthBasic, relayproto.RevokeDoorkeeper, &yes
		}, ""},
		{"bad auth style", func(p *Provider) { p.AuthStyle = "header" }, `auth_style "header" must be "params" or "basic"`},
		{"bad revoke style", func(p *Provider) { p.RevokeStyle = "oauth" }, `revoke_style "oauth" must be`},
		{"no pkce", func(p *Provider) { p.PKCEToProvider = &no }, "pkce_to_provider = false is refused"},
		{"no client id", func(p *Provider) { p.ClientID = "" }, "client_id is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			err := p.CheckLocal()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("CheckLocal() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
