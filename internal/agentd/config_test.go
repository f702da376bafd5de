package agentd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
	"github.com/tokentray/tokentray/relayproto/prototest"
)

const directProvider = `
[[provider]]
id = "example"
name = "Example"
issuer = "https://auth.example.com"
client_id = "tokentray-public"
api_base = "https://api.example.com/v1"
allowed_hosts = ["api.example.com"]
%s
[[provider.scope]]
name = "read"
default = true
required = true
`

func TestLoadConfigDirectProviderProfileFields(t *testing.T) {
	tests := []struct {
		name    string
		extra   string
		wantErr string
		check   func(p oauthflow.Provider) bool
	}{
		{"every profile field", "auth_style = \"basic\"\nrevoke_style = \"doorkeeper\"\npkce_to_provider = true\ndefault_lifetime = \"2h\"\n", "",
			func(p oauthflow.Provider) bool {
				return p.AuthStyle == relayproto.AuthBasic && p.RevokeStyle == relayproto.RevokeDoorkeeper &&
					p.PKCEToProvider != nil && *p.PKCEToProvider && p.TokenFormat == relayproto.FormatBearer
			}},
		{"no pkce refused", "pkce_to_provider = false\n", "pkce_to_provider = false is refused", nil},
		{"bad revoke style", "revoke_style = \"post\"\n", `revoke_style "post" must be`, nil},
		{"a secret is no key of the device", "client_secret = \"s\"\n", "unknown key provider.client_secret", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(strings.Replace(directProvider, "%s", tt.extra, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			fc, err := LoadConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfig = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if len(fc.Providers) != 1 || !tt.check(fc.Providers[0]) {
				t.Fatalf("LoadConfig gave %+v", fc.Providers)
			}
		})
	}
}

// TestLoadConfigDirectProviderStrongChecks: a local provider passes the relay's own
// validator (relayproto.Provider.Validate), not a weaker one.
func TestLoadConfigDirectProviderStrongChecks(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // one edit of directProvider
		wantErr  string
	}{
		{"api_base outside allowed_hosts", `allowed_hosts = ["api.example.com"]`, `allowed_hosts = ["x.com"]`, `api_base host "api.example.com" is not in allowed_hosts`},
		{"http endpoint", "%s", `token_url = "http://auth.example.com/token"`, "token_url"},
		{"bad id", `id = "example"`, `id = "Example"`, `id "Example" must match`},
		{"label", "%s", `label = "{{"`, "label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(strings.Replace(directProvider, tt.old, tt.new, 1), "%s", "", 1)
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadConfig = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

// TestRelayURLRuleSharedWithTheRelay checks $TOKENTRAY_RELAY against the cases the relay's
// public_url is checked against too (relayproto/prototest).
func TestRelayURLRuleSharedWithTheRelay(t *testing.T) {
	for _, tc := range prototest.URLs {
		if tc.URL == "" {
			continue // no relay at all: RelayURL answers ""
		}
		env := func(k string) string {
			if k == "TOKENTRAY_RELAY" {
				return tc.URL
			}
			return ""
		}
		if _, err := RelayURL(env, FileConfig{}); (err == nil) != tc.OK {
			t.Errorf("RelayURL(%q) = %v, want ok %v", tc.URL, err, tc.OK)
		}
	}
}

// TestLoadConfigApproveApps: approve_apps is off unless config.toml says so.
func TestLoadConfigApproveApps(t *testing.T) {
	for text, want := range map[string]bool{"": false, "approve_apps = false\n": false, "approve_apps = true\n": true} {
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		fc, err := LoadConfig(path)
		if err != nil || fc.ApproveApps != want {
			t.Errorf("config %q: approve_apps %v, %v; want %v", text, fc.ApproveApps, err, want)
		}
	}
}
