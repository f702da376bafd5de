package oauthflow

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayproto"
)

func TestResolveAPIPath(t *testing.T) {
	p := Provider{Provider: relayproto.Provider{APIBase: "https://ex.example.com/api/v2", AllowedHosts: []string{"ex.example.com"}}}
	good := []struct{ rel, want string }{
		{"members/me", "https://ex.example.com/api/v2/members/me"},
		{"orders", "https://ex.example.com/api/v2/orders"},
		{"markets/btcusd/depth", "https://ex.example.com/api/v2/markets/btcusd/depth"},
		{"a%20b", "https://ex.example.com/api/v2/a%20b"},
	}
	for _, tt := range good {
		u, err := ResolveAPIPath(p, tt.rel)
		if err != nil || u.String() != tt.want {
			t.Errorf("ResolveAPIPath(%q) = %v, %v; want %s", tt.rel, u, err, tt.want)
		}
	}
	bad := []string{
		"", "/members/me", "../v1/admin", "members/../../x", "./x", "a//b", "//evil.example.com/x",
		"https://evil.example.com/x", "%2e%2e/admin", "..%2fadmin", "a%2Fb", "%2E%2E/x", "a%5cb",
		"a\\b", "x?y=1", "x#f", "a%252e%252e", "a\nb",
	}
	for _, rel := range bad {
		if u, err := ResolveAPIPath(p, rel); !errors.Is(err, ErrPathRefused) {
			t.Errorf("ResolveAPIPath(%q) = %v, %v; want ErrPathRefused", rel, u, err)
		}
	}
	other := Provider{Provider: relayproto.Provider{APIBase: "https://evil.example.com/api", AllowedHosts: []string{"ex.example.com"}}}
	if _, err := ResolveAPIPath(other, "x"); !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("an api_base outside allowed_hosts: %v, want ErrHostNotAllowed", err)
	}
}

func FuzzResolveAPIPath(f *testing.F) {
	for _, s := range []string{"members/me", "../x", "%2e%2e/x", "a//b", "x?y", "ok/path"} {
		f.Add(s)
	}
	p := Provider{Provider: relayproto.Provider{APIBase: "https://ex.example.com/api/v2", AllowedHosts: []string{"ex.example.com"}}}
	f.Fuzz(func(t *testing.T, rel string) {
		u, err := ResolveAPIPath(p, rel)
		if err != nil {
			return
		}
		if u.Host != "ex.example.com" || !strings.HasPrefix(u.Path, "/api/v2/") || strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
			t.Fatalf("ResolveAPIPath(%q) = %s: it left api_base", rel, u)
		}
	})
}

func TestNewAPIRequestPeatio(t *testing.T) {
	p := Provider{Provider: relayproto.Provider{APIBase: "https://ex.example.com/api/v2", AllowedHosts: []string{"ex.example.com"},
		TokenFormat: relayproto.FormatPeatio, DefaultParams: map[string]string{"api_version": "2"},
	}}
	tok := &Token{AccessKey: "xxx", SecretKey: "yyy"}
	s := &peatio.Signer{Now: func() time.Time { return time.UnixMilli(123456789) }}
	get, err := NewAPIRequest(context.Background(), p, tok, s, APIRequest{Method: "get", Path: "markets", Params: url.Values{"foo": {"bar"}}})
	if err != nil {
		t.Fatal(err)
	}
	q := get.URL.Query()
	payload := "GET|/api/v2/markets|access_key=xxx&api_version=2&foo=bar&tonce=" + q.Get("tonce")
	if q.Get("signature") != peatio.Signature("yyy", payload) || q.Get("api_version") != "2" {
		t.Fatalf("GET query %s is not signed over the default params too", get.URL.RawQuery)
	}
	post, err := NewAPIRequest(context.Background(), p, tok, s, APIRequest{Method: "POST", Path: "orders", Params: url.Values{"market": {"btcusd"}}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(post.Body)
	form, _ := url.ParseQuery(string(body))
	if post.URL.RawQuery != "" || form.Get("market") != "btcusd" || form.Get("signature") == "" ||
		post.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("POST: query %q, body %q, type %q", post.URL.RawQuery, body, post.Header.Get("Content-Type"))
	}
}

func TestNewAPIRequestBearer(t *testing.T) {
	p := Provider{Provider: relayproto.Provider{APIBase: "https://api.example.com/v1", AllowedHosts: []string{"api.example.com"}, TokenFormat: relayproto.FormatBearer,
		DefaultParams: map[string]string{"lang": "en"},
	}}
	req, err := NewAPIRequest(context.Background(), p, &Token{AccessToken: "at"}, nil,
		APIRequest{Method: "POST", Path: "things", Params: url.Values{"x": {"1"}}, Body: strings.NewReader(`{"a":1}`), ContentType: "application/json"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Authorization") != "Bearer at" || req.URL.RawQuery != "lang=en&x=1" || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("bearer request: auth %q, query %q, type %q", req.Header.Get("Authorization"), req.URL.RawQuery, req.Header.Get("Content-Type"))
	}
}
