package oauthflow

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/tokentray/tokentray/internal/fakeoauth"
	"github.com/tokentray/tokentray/relayproto"
)

// newFositeProvider starts a standards-style provider (ory/fosite
// in-process: PKCE S256 enforced, refresh, RFC 7009, discovery).
func newFositeProvider(t *testing.T) *fakeoauth.Provider {
	t.Helper()
	fp := fakeoauth.New()
	t.Cleanup(fp.Close)
	return fp
}

// localProvider is the config.toml entry for fp.
func localProvider(fp *fakeoauth.Provider) Provider {
	host, _ := url.Parse(fp.URL)
	return Provider{Provider: relayproto.Provider{
		ID: "local", Name: "Local", TokenFormat: relayproto.FormatBearer, ClientID: fakeoauth.ClientID,
		APIBase: fp.URL, MePath: "/me", Label: "{{.name}} at Local", AccountField: "sub",
		AllowedHosts: []string{host.Hostname()},
		Scopes:       []relayproto.Scope{{Name: "read", Default: true}, {Name: "write"}},
	}, Issuer: fp.URL}
}

// refusesWithoutPKCE reports whether fp refuses a code flow without PKCE, so
// the direct-flow tests really run against an enforcing provider.
func refusesWithoutPKCE(t *testing.T, fp *fakeoauth.Provider) bool {
	q := url.Values{"client_id": {fakeoauth.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:5/callback"},
		"scope": {"read"}, "state": {"0123456789abcdef"}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(fp.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc != nil && loc.Query().Get("error") == "invalid_request" && loc.Query().Get("code") == ""
}
