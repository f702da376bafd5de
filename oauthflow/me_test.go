package oauthflow

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayproto"
)

const exRedirect = "https://relay.example.com/v1/callback"

// exchangeKeys gets a key pair from the simulated exchange the way the
// relay does: authorize (auto-approved), then the code grant.
func exchangeKeys(t *testing.T, srv *httptest.Server, scope string) *Token {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"tokentray-demo"}, "redirect_uri": {exRedirect}, "response_type": {"code"}, "scope": {scope}, "state": {"s"}}
	resp, err := noFollow.Get(srv.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {exRedirect},
		"client_id": {"tokentray-demo"}, "client_secret": {"demo-client-secret"}}
	resp, err = http.PostForm(srv.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	json.NewDecoder(resp.Body).Decode(&body)
	tok, err := parseTokenResponse(body, tokenSpec{format: relayproto.FormatPeatio, requested: strings.Fields(scope), now: time.Now()})
	if err != nil {
		t.Fatalf("token answer %d: %v", resp.StatusCode, err)
	}
	return tok
}

func newExchange(t *testing.T, now func() time.Time) (*fakeexchange.Exchange, *httptest.Server, Provider) {
	ex := fakeexchange.New(fakeexchange.Config{RedirectURIs: []string{exRedirect}, Now: now})
	ex.SetApproval(fakeexchange.AutoApprove)
	srv := httptest.NewServer(ex)
	t.Cleanup(func() { ex.Close(); srv.Close() })
	p := exchangeProvider
	p.APIBase = srv.URL + "/api/v2"
	p.MePath = "/members/me"
	p.Label = "{{.name}}'s EXchange ({{.fields.environment}})"
	p.AccountField = "sn"
	p.AllowedHosts = []string{"127.0.0.1"}
	return ex, srv, p
}

func TestFetchMePeatio(t *testing.T) {
	ex, srv, p := newExchange(t, nil)
	tok := exchangeKeys(t, srv, "profile history")
	p.DefaultParams = map[string]string{"lang": "en"} // signed with the rest
	me, err := FetchMe(context.Background(), srv.Client(), p, tok, map[string]string{"environment": "sandbox"}, nil)
	if err != nil {
		t.Fatalf("FetchMe: %v", err)
	}
	if me.Account != "ID1A2B3C4D5E" || me.Label != "Alice Trader's EXchange (sandbox)" {
		t.Errorf("FetchMe = account %q label %q", me.Account, me.Label)
	}
	if ex.Calls("/api/v2/members/me") != 1 {
		t.Errorf("me calls = %d, want 1", ex.Calls("/api/v2/members/me"))
	}

	// An expired key: the exchange's own error, with its code.
	ex.ExpireAllKeys()
	_, err = FetchMe(context.Background(), srv.Client(), p, tok, nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != "2010" || e.HTTPStatus != 401 || e.Source != relayproto.SourceProvider {
		t.Fatalf("FetchMe with an expired key = %v, want *Error 2010", err)
	}
	if strings.Contains(err.Error(), tok.SecretKey) || strings.Contains(err.Error(), tok.AccessKey) {
		t.Errorf("error %q holds a key", err)
	}
}

// TestFetchMeClockOffset: the exchange's clock is 2 minutes ahead; the
// first call gets 2007, the signer learns the offset, the retry passes.
func TestFetchMeClockOffset(t *testing.T) {
	ahead := func() time.Time { return time.Now().Add(2 * time.Minute) }
	ex, srv, p := newExchange(t, ahead)
	tok := exchangeKeys(t, srv, "profile")
	tok.Expiry = time.Time{}
	signer := &peatio.Signer{}
	if _, err := FetchMe(context.Background(), srv.Client(), p, tok, map[string]string{"environment": "x"}, signer); err != nil {
		t.Fatalf("FetchMe with a skewed clock: %v", err)
	}
	if n := ex.Calls("/api/v2/members/me"); n != 2 {
		t.Errorf("me calls = %d, want 2 (2007, then the retry)", n)
	}
	if off := signer.Offset(); off < 110*time.Second || off > 130*time.Second {
		t.Errorf("offset = %v, want about 2m", off)
	}
}

func TestFetchMeRefuses(t *testing.T) {
	var hits atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/nosn":
			w.Write([]byte(`{"name":"Alice"}`))
		case "/array":
			w.Write([]byte(`[1]`))
		case "/redirect":
			http.Redirect(w, r, "https://evil.example/steal", http.StatusFound)
		case "/bearer-error":
			w.WriteHeader(401)
			w.Write([]byte(`{"error":"invalid_token","error_description":"The access token expired"}`))
		case "/html":
			w.WriteHeader(503)
			w.Write([]byte(`<html>down</html>`))
		default:
			if r.Header.Get("Authorization") != "Bearer BEARERTOK" || r.URL.Query().Get("v") != "2" {
				w.WriteHeader(401)
				return
			}
			w.Write([]byte(`{"sub":12345678901234567890,"name":"Bob"}`))
		}
	}))
	defer api.Close()
	bearer := Provider{Provider: relayproto.Provider{ID: "b", Name: "B", TokenFormat: relayproto.FormatBearer, APIBase: api.URL, MePath: "/me", Label: "{{.name}}@B",
		AccountField: "sub", AllowedHosts: []string{"127.0.0.1"}, DefaultParams: map[string]string{"v": "2"},
	}}
	tok := &Token{TokenType: relayproto.FormatBearer, AccessToken: "BEARERTOK"}

	me, err := FetchMe(context.Background(), nil, bearer, tok, nil, nil)
	if err != nil || me.Account != "12345678901234567890" || me.Label != "Bob@B" {
		t.Fatalf("bearer FetchMe = %+v, %v; want the big number kept exactly", me, err)
	}

	with := func(f func(p *Provider)) Provider { p := bearer; f(&p); return p }
	tests := []struct {
		name  string
		p     Provider
		want  error
		code  string
		nohit bool // refused before dialing
	}{
		{name: "host not allowed", p: with(func(p *Provider) { p.AllowedHosts = []string{"f1cx.com"} }), want: ErrHostNotAllowed, nohit: true},
		{name: "wildcard does not match bare IP", p: with(func(p *Provider) { p.AllowedHosts = []string{"*.0.0.1"} }), want: ErrHostNotAllowed, nohit: true},
		{name: "no allow-list", p: with(func(p *Provider) { p.AllowedHosts = nil }), want: ErrHostNotAllowed, nohit: true},
		{name: "plain http to a public host", p: with(func(p *Provider) { p.APIBase = "http://f1cx.com"; p.AllowedHosts = []string{"f1cx.com"} }), want: ErrHostNotAllowed, nohit: true},
		{name: "missing account field", p: with(func(p *Provider) { p.MePath = "/nosn" }), want: ErrNoAccount},
		{name: "label template does not parse", p: with(func(p *Provider) { p.Label = "{{.name" }), want: ErrLabel},
		{name: "label names a missing key", p: with(func(p *Provider) { p.Label = "{{.nickname}}" }), want: ErrLabel},
		{name: "label names a missing field", p: with(func(p *Provider) { p.Label = "{{.fields.env}}" }), want: ErrLabel},
		{name: "not an object", p: with(func(p *Provider) { p.MePath = "/array" }), want: ErrBadResponse},
		{name: "redirect not followed", p: with(func(p *Provider) { p.MePath = "/redirect" }), code: "http_302"},
		{name: "provider error verbatim", p: with(func(p *Provider) { p.MePath = "/bearer-error" }), code: "invalid_token"},
		{name: "html error", p: with(func(p *Provider) { p.MePath = "/html" }), code: "http_503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			_, err := FetchMe(context.Background(), nil, tt.p, tok, nil, nil)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("FetchMe = %v, want %v", err, tt.want)
			}
			var e *Error
			if tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code) {
				t.Fatalf("FetchMe = %v, want *Error %s", err, tt.code)
			}
			if tt.nohit && hits.Load() != before {
				t.Errorf("the server was contacted")
			}
			if err != nil && strings.Contains(err.Error(), "BEARERTOK") {
				t.Errorf("error %q holds the token", err)
			}
		})
	}
	if e := (&Error{}); errors.As(func() error {
		_, err := FetchMe(context.Background(), nil, with(func(p *Provider) { p.MePath = "/bearer-error" }), tok, nil, nil)
		return err
	}(), &e) {
		if e.Description != "The access token expired" {
			t.Errorf("Description = %q, want the provider's text", e.Description)
		}
	}
}

func TestRenderLabel(t *testing.T) {
	raw := map[string]any{"name": "A\nB\t C", "long": strings.Repeat("x", 300)}
	tests := []struct {
		tmpl, want string
	}{
		{"", "EXchange"},
		{"{{.name}}", "A B C"},
		{"{{.long}}", strings.Repeat("x", maxLabel-1) + "…"},
		{"{{.fields.env}}!", "prod!"},
	}
	for _, tt := range tests {
		got, err := RenderLabel(Provider{Provider: relayproto.Provider{Name: "EXchange", Label: tt.tmpl}}, raw, map[string]string{"env": "prod"})
		if err != nil || got != tt.want {
			t.Errorf("RenderLabel(%q) = %q, %v, want %q", tt.tmpl, got, err, tt.want)
		}
	}
	for _, bad := range []string{"{{.none}}", "{{range .}}{{end}}   ", `{{printf "%5000s" "x"}}`} {
		if _, err := RenderLabel(Provider{Provider: relayproto.Provider{Label: bad}}, raw, nil); !errors.Is(err, ErrLabel) {
			t.Errorf("RenderLabel(%q) = %v, want ErrLabel", bad, err)
		}
	}
}
