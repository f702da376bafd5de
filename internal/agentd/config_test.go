package agentd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/oauthflow"
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
				return p.AuthStyle == oauthflow.AuthBasic && p.RevokeStyle == oauthflow.RevokeDoorkeeper &&
					p.PKCEToProvider != nil && *p.PKCEToProvider && p.TokenFormat == oauthflow.FormatBearer
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
