package agent

import (
	"context"
	"net/url"
	"testing"

	"github.com/tokentray/tokentray/internal/fakeoauth"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// TestDirectProvider connects, refreshes and revokes a locally configured
// public client, run against a standards-style provider that enforces PKCE:
// no relay is involved.
func TestDirectProvider(t *testing.T) {
	fp := fakeoauth.New()
	t.Cleanup(fp.Close)
	host, _ := url.Parse(fp.URL)
	local := oauthflow.Provider{Provider: relayproto.Provider{
		ID: "local", Name: "Local", TokenFormat: relayproto.FormatBearer, ClientID: fakeoauth.ClientID,
		APIBase: fp.URL, MePath: "/me", Label: "{{.name}} at Local", AccountField: "sub",
		AllowedHosts: []string{host.Hostname()},
		Scopes:       []relayproto.Scope{{Name: "read", Default: true, Required: true}, {Name: "write"}},
	}, Issuer: fp.URL}
	e := newEnvTuned(t, func(c *Config) { c.LocalProviders = []oauthflow.Provider{local} })
	ctx := context.Background()

	if !e.agent.IsLocal("local") || e.agent.IsLocal("exchange") {
		t.Fatal("IsLocal does not tell the local provider from the relay's")
	}
	c, err := e.agent.Connect(ctx, ConnectRequest{Provider: "local"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Label != "Alice at Local" || c.Account != "alice" || c.State != StateConnected {
		t.Fatalf("Connect = %+v", c)
	}
	k, err := e.agent.Token(ctx, c.ID, 0)
	if err != nil || k.TokenType != relayproto.FormatBearer || k.AccessToken == "" || k.AccessKey != "" {
		t.Fatalf("Token = type %q, bearer %t, err %v", k.TokenType, k.AccessToken != "", err)
	}
	if x, err := e.agent.Refresh(ctx, c.ID, nil); err != nil || x.Generation != 2 {
		t.Fatalf("Refresh = generation %d, %v", x.Generation, err)
	}
	status, body := e.proxy(c.ID, oauthflow.APIRequest{Method: "GET", Path: "me"})
	if status != 200 || body == "" {
		t.Fatalf("proxied bearer GET me = %d %s", status, body)
	}
	res, err := e.agent.Revoke(ctx, c.ID)
	if err != nil || !res.RevokedAtProvider || fp.Revocations() != 1 {
		t.Fatalf("Revoke = %+v, %v; provider saw %d revocations", res, err, fp.Revocations())
	}
	if got := e.stack.RelayCalls("/v1/refresh") + e.stack.RelayCalls("/v1/authorize"); got != 0 {
		t.Fatalf("the direct flow called the relay %d times", got)
	}
}
