package oauthflow

import (
	"context"
	"errors"
	"github.com/tokentray/tokentray/internal/devstack"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeoauth"
	"github.com/tokentray/tokentray/relayproto"
)

func TestConnectDirectFosite(t *testing.T) {
	fp := newFositeProvider(t)
	if !refusesWithoutPKCE(t, fp) {
		t.Fatal("the test provider accepts a code flow without PKCE; the test would prove nothing")
	}
	p := localProvider(fp)
	b := &devstack.PageBrowser{}
	tok, err := ConnectDirect(context.Background(), DirectConnect{
		Provider: p, Scopes: []string{"read", "write"}, Open: b.Open, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ConnectDirect: %v", err)
	}
	if tok.TokenType != relayproto.FormatBearer || tok.AccessToken == "" || tok.RefreshCredential == "" {
		t.Fatalf("token = %v, want bearer with a refresh token", tok)
	}
	if !slices.Equal(tok.ScopesGranted, []string{"read", "write"}) {
		t.Errorf("ScopesGranted = %q", tok.ScopesGranted)
	}
	if d := time.Until(tok.Expiry); d < 50*time.Minute || d > 61*time.Minute {
		t.Errorf("expiry in %v, want about 1h (expires_in)", d)
	}
	if status, body, h := b.Page(); status != 200 || !strings.Contains(body, "Connected") {
		t.Errorf("final page %d %q", status, body)
	} else {
		devstack.CheckPageHeaders(t, h)
	}

	me, err := FetchMe(context.Background(), nil, p, tok, nil, nil)
	if err != nil || me.Account != "alice" || me.Label != "Alice at Local" {
		t.Fatalf("FetchMe = %+v, %v", me, err)
	}

	nt, err := RefreshDirect(context.Background(), nil, p, tok, nil)
	if err != nil {
		t.Fatalf("RefreshDirect: %v", err)
	}
	if nt.AccessToken == tok.AccessToken || nt.RefreshCredential == "" || nt.RefreshCredential == tok.RefreshCredential {
		t.Errorf("refresh did not rotate the tokens")
	}
	// The old refresh token is spent: the provider's own error, verbatim.
	_, err = RefreshDirect(context.Background(), nil, p, tok, nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != "invalid_grant" || e.Source != relayproto.SourceProvider || e.Description == "" {
		t.Fatalf("RefreshDirect with a spent token = %v, want the provider's invalid_grant", err)
	}
	if strings.Contains(err.Error(), tok.RefreshCredential) {
		t.Errorf("error holds the refresh token")
	}

	if err := RevokeDirect(context.Background(), nil, p, nt); err != nil {
		t.Fatalf("RevokeDirect: %v", err)
	}
	if _, err := FetchMe(context.Background(), nil, p, nt, nil, nil); !errors.Is(err, &Error{Code: "invalid_token"}) {
		t.Errorf("FetchMe after revoke = %v, want invalid_token", err)
	}
	if _, err := RefreshDirect(context.Background(), nil, p, nt, nil); err == nil {
		t.Errorf("RefreshDirect after revoke succeeded")
	}
}

func TestConnectDirectErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(fp *fakeoauth.Provider, p *Provider)
		check func(t *testing.T, err error, page string)
	}{
		{
			name:  "provider denies, text verbatim and escaped",
			setup: func(fp *fakeoauth.Provider, p *Provider) { fp.SetDeny(true) },
			check: func(t *testing.T, err error, page string) {
				var e *Error
				if !errors.As(err, &e) || e.Code != "access_denied" || !strings.Contains(e.Description, "Alice said <no>.") {
					t.Fatalf("error = %v, want access_denied with the provider's text", err)
				}
				if strings.Contains(page, "<no>") || !strings.Contains(page, "&lt;no&gt;") {
					t.Errorf("page does not escape the provider's text: %s", page)
				}
			},
		},
		{
			name:  "iss from another issuer",
			setup: func(fp *fakeoauth.Provider, p *Provider) { fp.SetIssuerParam("https://evil.example") },
			check: func(t *testing.T, err error, page string) {
				if !errors.Is(err, ErrIssuerMismatch) {
					t.Fatalf("error = %v, want ErrIssuerMismatch", err)
				}
			},
		},
		{
			name:  "iss of the right issuer",
			setup: func(fp *fakeoauth.Provider, p *Provider) { fp.SetIssuerParam(fp.URL) },
			check: func(t *testing.T, err error, page string) {
				if err != nil {
					t.Fatalf("ConnectDirect with the right iss: %v", err)
				}
			},
		},
		{
			name:  "scope the client may not ask",
			setup: func(fp *fakeoauth.Provider, p *Provider) {},
			check: func(t *testing.T, err error, page string) {
				if !errors.Is(err, &Error{Code: "invalid_scope"}) {
					t.Fatalf("error = %v, want invalid_scope", err)
				}
			},
		},
		{
			name:  "discovery through OpenID Connect",
			setup: func(fp *fakeoauth.Provider, p *Provider) { fp.SetOIDCOnly(true) },
			check: func(t *testing.T, err error, page string) {
				if err != nil {
					t.Fatalf("ConnectDirect via openid-configuration: %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := newFositeProvider(t)
			p := localProvider(fp)
			tt.setup(fp, &p)
			scopes := []string{"read"}
			if strings.Contains(tt.name, "scope") {
				scopes = []string{"admin"}
			}
			b := &devstack.PageBrowser{}
			_, err := ConnectDirect(context.Background(), DirectConnect{Provider: p, Scopes: scopes, Open: b.Open, Timeout: 10 * time.Second})
			_, page, _ := b.Page()
			tt.check(t, err, page)
		})
	}
}

func TestDiscover(t *testing.T) {
	fp := newFositeProvider(t)
	m, err := Discover(context.Background(), nil, fp.URL)
	if err != nil || m.TokenEndpoint != fp.URL+"/token" || m.RevocationEndpoint != fp.URL+"/revoke" {
		t.Fatalf("Discover = %+v, %v", m, err)
	}
	for _, issuer := range []string{fp.URL + "/", "http://issuer.example.com", fp.URL + "/nothing-here"} {
		if _, err := Discover(context.Background(), nil, issuer); err == nil {
			t.Errorf("Discover(%q) succeeded, want an error (issuer mismatch, not https, or no document)", issuer)
		}
	}
}

func TestConnectDirectConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Provider
	}{
		{"no client id", Provider{Provider: relayproto.Provider{ID: "x", AuthorizeURL: "https://a.example/a", TokenURL: "https://a.example/t", TokenFormat: relayproto.FormatBearer}}},
		{"no endpoints", Provider{Provider: relayproto.Provider{ID: "x", ClientID: "c", TokenFormat: relayproto.FormatBearer}}},
		{"plain http endpoint", Provider{Provider: relayproto.Provider{ID: "x", ClientID: "c", AuthorizeURL: "http://a.example/a", TokenURL: "https://a.example/t"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ConnectDirect(context.Background(), DirectConnect{Provider: tt.p,
				Open: func(context.Context, string) error { t.Error("opener called"); return nil }})
			if err == nil {
				t.Fatal("ConnectDirect succeeded")
			}
		})
	}
}

func TestRefreshDirectProviderDown(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
	}{
		{"500 html", 500, "<html>REFRESHTOKEN-ECHO</html>", "http_500"},
		{"refusal verbatim", 400, `{"error":"invalid_grant","error_description":"Token was revoked."}`, "invalid_grant"},
		{"200 not json", 200, "<html>hi</html>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.FormValue("client_id") != "c" || r.FormValue("client_secret") != "" || r.Header.Get("Authorization") != "" {
					t.Errorf("public client sent %q / auth header %q", r.Form, r.Header.Get("Authorization"))
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			p := Provider{Provider: relayproto.Provider{ID: "x", ClientID: "c", TokenFormat: relayproto.FormatBearer, AuthorizeURL: srv.URL + "/a", TokenURL: srv.URL + "/t"}}
			old := &Token{TokenType: relayproto.FormatBearer, AccessToken: "AT", RefreshCredential: "REFRESHTOKEN", ScopesGranted: []string{"read"}}
			keep := *old
			_, err := RefreshDirect(context.Background(), nil, p, old, nil)
			if err == nil {
				t.Fatal("RefreshDirect succeeded")
			}
			if tt.wantCode != "" && !errors.Is(err, &Error{Code: tt.wantCode}) {
				t.Errorf("RefreshDirect = %v, want %s", err, tt.wantCode)
			}
			if strings.Contains(err.Error(), "REFRESHTOKEN") {
				t.Errorf("error %q holds the refresh token", err)
			}
			if old.RefreshCredential != keep.RefreshCredential || old.AccessToken != keep.AccessToken {
				t.Error("a failed refresh changed the old token")
			}
		})
	}
}
