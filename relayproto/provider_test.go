package relayproto

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func validProvider() Provider {
	yes := true
	return Provider{
		ID: "exchange", Name: "EXchange", ClientID: "cid", TokenFormat: FormatPeatio,
		AuthorizeURL: "https://f1cx.com/oauth/authorize", TokenURL: "https://f1cx.com/oauth/token",
		RevokeStyle: RevokeDoorkeeper, AuthStyle: AuthParams, PKCEToProvider: &yes,
		DefaultLifetime: Duration(4 * time.Hour), APIBase: "https://f1cx.com/api/v2", MePath: "/members/me",
		Label: "{{.name}}", AccountField: "sn", AllowedHosts: []string{"f1cx.com"},
		Scopes: []Scope{{Name: "profile", Default: true}},
		Fields: []Field{{Name: "environment", Kind: "select", Options: []string{"production", "sandbox"}, Default: "production"}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Provider)
		wantErr string // "" means valid
	}{
		{"valid", func(*Provider) {}, ""},
		{"defaults left to the side", func(p *Provider) { p.RevokeStyle, p.AuthStyle, p.DefaultLifetime, p.PKCEToProvider = "", "", 0, nil }, ""},
		{"no endpoints (a side's own rule)", func(p *Provider) { p.AuthorizeURL, p.TokenURL = "", "" }, ""},
		{"no id", func(p *Provider) { p.ID = "" }, "id is required"},
		{"bad id", func(p *Provider) { p.ID = "Ex" }, `id "Ex" must match`},
		{"no name", func(p *Provider) { p.Name = "" }, "name is required"},
		{"no client id", func(p *Provider) { p.ClientID = "" }, "client_id is required"},
		{"http token url", func(p *Provider) { p.TokenURL = "http://f1cx.com/oauth/token" }, "token_url"},
		{"loopback http token url", func(p *Provider) { p.TokenURL = "http://LOCALHOST:9/token" }, ""},
		{"fragment", func(p *Provider) { p.RevokeURL = "https://f1cx.com/r#x" }, "must have no fragment"},
		{"revoke style", func(p *Provider) { p.RevokeStyle = "post" }, `revoke_style "post" must be`},
		{"auth style", func(p *Provider) { p.AuthStyle = "header" }, `auth_style "header" must be`},
		{"no format", func(p *Provider) { p.TokenFormat = "" }, "token_format is required"},
		{"bad format", func(p *Provider) { p.TokenFormat = "jwt" }, `token_format "jwt" must be`},
		{"short lifetime", func(p *Provider) { p.DefaultLifetime = Duration(time.Second) }, "default_lifetime 1s must be at least 1m"},
		{"me path", func(p *Provider) { p.MePath = "me" }, "me_path"},
		{"label", func(p *Provider) { p.Label = "{{" }, "label"},
		{"host pattern", func(p *Provider) { p.AllowedHosts = []string{"a b"} }, "allowed_hosts entry"},
		{"api base outside", func(p *Provider) { p.AllowedHosts = []string{"x.com"} }, `api_base host "f1cx.com" is not in allowed_hosts`},
		{"no scope", func(p *Provider) { p.Scopes = nil }, "at least one [[provider.scope]]"},
		{"scope spaces", func(p *Provider) { p.Scopes = []Scope{{Name: "a b"}} }, "scope name"},
		{"scope twice", func(p *Provider) { p.Scopes = []Scope{{Name: "a"}, {Name: "a"}} }, `scope "a": duplicate`},
		{"field kind", func(p *Provider) { p.Fields[0].Kind = "radio" }, `kind "radio"`},
		{"select default", func(p *Provider) { p.Fields[0].Default = "moon" }, `default "moon" is not an option`},
		{"nine fields", func(p *Provider) {
			p.Fields = nil
			for _, n := range "abcdefghi" {
				p.Fields = append(p.Fields, Field{Name: string(n)})
			}
		}, "at most 8 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProvider()
			p.Fields = append([]Field(nil), p.Fields...)
			tt.edit(&p)
			err := p.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestPublicListsNoSecretOrEndpoint(t *testing.T) {
	b, err := json.Marshal(validProvider().Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"client_id", "authorize_url", "token_url", "revoke_url", "auth_style", "revoke_style", "pkce_to_provider", "cid"} {
		if strings.Contains(string(b), key) {
			t.Errorf("Public() JSON %s holds %q", b, key)
		}
	}
	empty, _ := json.Marshal(Provider{ID: "x"}.Public())
	for _, want := range []string{`"allowed_hosts":[]`, `"default_params":{}`, `"scopes":[]`, `"fields":[]`, `"default_lifetime":"0s"`} {
		if !strings.Contains(string(empty), want) {
			t.Errorf("Public() of an empty profile = %s, want %s", empty, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in, out string
	}{{"4h", "4h"}, {"90s", "1m30s"}, {"2h30m", "2h30m"}, {"1h0m0s", "1h"}, {"", "0s"}} {
		var d Duration
		if err := d.UnmarshalText([]byte(tt.in)); err != nil {
			t.Fatalf("UnmarshalText(%q) = %v", tt.in, err)
		}
		if got := d.String(); got != tt.out {
			t.Errorf("Duration(%q).String() = %q, want %q", tt.in, got, tt.out)
		}
	}
	var p struct {
		D Duration `json:"d"`
	}
	for _, bad := range []string{`{"d":"soon"}`, `{"d":"-1h"}`, `{"d":14400}`} {
		if err := json.Unmarshal([]byte(bad), &p); err == nil {
			t.Errorf("Unmarshal(%s) succeeded, want an error", bad)
		}
	}
	p.D = Duration(4 * time.Hour)
	if b, _ := json.Marshal(p); string(b) != `{"d":"4h"}` {
		t.Errorf("Marshal = %s, want {\"d\":\"4h\"}", b)
	}
}
