package relay

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto/prototest"
)

// exampleConfig is docs/relay.md §1's example.
const exampleConfig = `
listen = "127.0.0.1:8787"
public_url = "https://relay.example.com"
behind_proxy = false
seal_keys_file = "seal.keys"
rate_per_minute = 60
provider_calls_per_second = 20
provider_timeout = "15s"
metrics_listen = "127.0.0.1:9787"

[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "https://f1cx.com/oauth/authorize"
token_url = "https://f1cx.com/oauth/token"
revoke_url = "https://f1cx.com/oauth/revoke"
revoke_style = "doorkeeper"
client_id = "cid"
client_secret_file = "exchange.secret"
auth_style = "params"
pkce_to_provider = false
token_format = "peatio"
default_lifetime = "4h"
api_base = "https://f1cx.com/api/v2"
me_path = "/members/me"
label = "{{.name}}'s EXchange"
account_field = "sn"
allowed_hosts = ["f1cx.com"]
default_params = { }

[[provider.scope]]
name = "profile"
description = "basic user information"
default = true
required = true

[[provider.field]]
name = "environment"
label = "Environment"
kind = "select"
options = ["production", "sandbox"]
required = true
default = "production"
`

const minimalConfig = `
listen = "127.0.0.1:8787"
public_url = "https://relay.example.com"
seal_keys_file = "seal.keys"
[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "https://f1cx.com/oauth/authorize"
token_url = "https://f1cx.com/oauth/token"
client_id = "cid"
client_secret_env = "EXCHANGE_SECRET"
token_format = "peatio"
[[provider.scope]]
name = "profile"
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigExample(t *testing.T) {
	path := writeConfig(t, exampleConfig)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	dir := filepath.Dir(path)
	p := cfg.Providers[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"seal_keys_file", cfg.SealKeysFile, filepath.Join(dir, "seal.keys")},
		{"client_secret_file", p.ClientSecretFile, filepath.Join(dir, "exchange.secret")},
		{"provider_timeout", cfg.ProviderTimeout, 15 * time.Second},
		{"default_lifetime", time.Duration(p.DefaultLifetime), 4 * time.Hour},
		{"metrics_listen", cfg.MetricsListen, "127.0.0.1:9787"},
		{"field options", len(p.Fields[0].Options), 2},
		{"scope required", p.Scopes[0].Required, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, minimalConfig))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	p := cfg.Providers[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"rate_per_minute", cfg.RatePerMinute, 60},
		{"provider_calls_per_second", cfg.ProviderCallsPerSecond, 20},
		{"provider_timeout", cfg.ProviderTimeout, 15 * time.Second},
		{"metrics_listen", cfg.MetricsListen, "127.0.0.1:9787"},
		{"revoke_style", p.RevokeStyle, "doorkeeper"},
		{"auth_style", p.AuthStyle, "params"},
		{"default_lifetime", time.Duration(p.DefaultLifetime), 4 * time.Hour},
		{"refresh_answer_window", cfg.RefreshAnswerWindow, 2 * time.Minute},
		{"shared_store", cfg.SharedStore, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadConfigStoreDefaults(t *testing.T) {
	text := strings.Replace(minimalConfig, "listen =",
		"shared_store = \"rediss://relay@redis.internal:6380/2\"\nshared_store_password_file = \"redis.pass\"\nlisten =", 1)
	path := writeConfig(t, text)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.RefreshAnswerWindow != 24*time.Hour {
		t.Errorf("refresh_answer_window with a store = %s, want 24h", cfg.RefreshAnswerWindow)
	}
	if want := filepath.Join(filepath.Dir(path), "redis.pass"); cfg.SharedStorePasswordFile != want {
		t.Errorf("shared_store_password_file = %q, want %q", cfg.SharedStorePasswordFile, want)
	}
	cfg, err = LoadConfig(writeConfig(t, strings.Replace(text, "listen =", "refresh_answer_window = \"1h\"\nlisten =", 1)))
	if err != nil || cfg.RefreshAnswerWindow != time.Hour {
		t.Errorf("refresh_answer_window 1h with a store = %v, %v", cfg, err)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, old, new, wantErr string
	}{
		{"unknown top key", `listen =`, "colour = \"red\"\nlisten =", `unknown key "colour"`},
		{"unknown provider key", `token_format =`, "tokn_url = \"x\"\ntoken_format =", `unknown key "provider.tokn_url"`},
		{"inline secret", `token_format =`, "client_secret = \"s3cr3t-value\"\ntoken_format =", "never appear inline"},
		{"no listen", `listen = "127.0.0.1:8787"`, ``, "listen is required"},
		{"bad listen", `"127.0.0.1:8787"`, `"8787"`, "listen"},
		{"public listen plain", `"127.0.0.1:8787"`, `"0.0.0.0:8787"`, "not loopback"},
		{"no public_url", `public_url = "https://relay.example.com"`, ``, "public_url is required"},
		{"http public_url", `"https://relay.example.com"`, `"http://relay.example.com"`, "must be https"},
		{"no seal keys", `seal_keys_file = "seal.keys"`, ``, "seal_keys_file is required"},
		{"no provider", minimalConfig[strings.Index(minimalConfig, "[[provider]]"):], ``, "at least one [[provider]]"},
		{"bad id", `id = "exchange"`, `id = "Ex change"`, "[a-z0-9-]+"},
		{"no name", `name = "EXchange"`, ``, "name is required"},
		{"no authorize_url", `authorize_url = "https://f1cx.com/oauth/authorize"`, ``, "authorize_url is required"},
		{"http token_url", `"https://f1cx.com/oauth/token"`, `"http://f1cx.com/oauth/token"`, "token_url"},
		{"no client_id", `client_id = "cid"`, ``, "client_id is required"},
		{"no secret", `client_secret_env = "EXCHANGE_SECRET"`, ``, "client_secret_file or client_secret_env is required"},
		{"bad env name", `"EXCHANGE_SECRET"`, `"EX-SECRET"`, "not a variable name"},
		{"no token_format", `token_format = "peatio"`, ``, "token_format is required"},
		{"bad token_format", `"peatio"`, `"jwt"`, "token_format"},
		{"no scope", "[[provider.scope]]\nname = \"profile\"\n", ``, "at least one [[provider.scope]]"},
		{"bad duration", `token_format =`, "provider_timeout = \"soon\"\ntoken_format =", "provider_timeout"},
		{"zero rate", `listen =`, "rate_per_minute = 0\nlisten =", "rate_per_minute 0 must be at least 1"},
		{"zero provider cap", `listen =`, "provider_calls_per_second = 0\nlisten =", "provider_calls_per_second 0 must be at least 1"},
		{"zero provider timeout", `listen =`, "provider_timeout = \"0s\"\nlisten =", "provider_timeout 0s"},
		{"metrics on listen", `listen =`, "metrics_listen = \"127.0.0.1:8787\"\nlisten =", "metrics_listen must differ from listen"},
		{"bad label", `token_format =`, "label = \"{{.name\"\ntoken_format =", "label"},
		{"bad revoke style", `token_format =`, "revoke_style = \"oauth\"\ntoken_format =", "revoke_style"},
		{"bad host", `token_format =`, "allowed_hosts = [\"https://x.com\"]\ntoken_format =", "allowed_hosts"},
		{"api_base not allowed", `token_format =`, "api_base = \"https://f1cx.com/api/v2\"\nallowed_hosts = [\"*.f1cx.com\"]\ntoken_format =", `api_base host "f1cx.com" is not in allowed_hosts ["*.f1cx.com"]`},
		{"store password inline key", `listen =`, "shared_store = \"redis://127.0.0.1:6379/0\"\nshared_store_password = \"pw\"\nlisten =", "never appear inline"},
		{"store password in URL", `listen =`, "shared_store = \"redis://:pw@127.0.0.1:6379/0\"\nlisten =", "never appears inline"},
		{"store scheme", `listen =`, "shared_store = \"http://127.0.0.1:6379\"\nlisten =", `scheme "http" must be redis or rediss`},
		{"store no host", `listen =`, "shared_store = \"redis:///0\"\nlisten =", "has no host"},
		{"store bad db", `listen =`, "shared_store = \"redis://127.0.0.1:6379/zero\"\nlisten =", "database number"},
		{"store query", `listen =`, "shared_store = \"redis://127.0.0.1:6379/0?dial_timeout=1s\"\nlisten =", "no query"},
		{"store password without store", `listen =`, "shared_store_password_env = \"REDIS_PW\"\nlisten =", "need shared_store"},
		{"store two passwords", `listen =`, "shared_store = \"redis://127.0.0.1:6379/0\"\nshared_store_password_env = \"REDIS_PW\"\nshared_store_password_file = \"redis.pass\"\nlisten =", "only one of"},
		{"store bad env", `listen =`, "shared_store = \"redis://127.0.0.1:6379/0\"\nshared_store_password_env = \"REDIS-PW\"\nlisten =", "not a variable name"},
		{"zero window", `listen =`, "refresh_answer_window = \"0s\"\nlisten =", "refresh_answer_window 0s"},
		{"short window", `listen =`, "refresh_answer_window = \"30s\"\nlisten =", "between 1m and 168h"},
		{"long window", `listen =`, "refresh_answer_window = \"200h\"\nlisten =", "between 1m and 168h"},
		{"not toml", `listen =`, `listen = = `, "parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(minimalConfig, tc.old, tc.new, 1)
			if text == minimalConfig {
				t.Fatalf("test case does not change the config")
			}
			_, err := LoadConfig(writeConfig(t, text))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadConfig = %v, want error containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Errorf("error %q shows the inline secret", err)
			}
		})
	}
}

func TestLoadConfigMetricsOff(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, "metrics_listen = \"\"\n"+minimalConfig))
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.MetricsListen != "" {
		t.Errorf("metrics_listen = %q after an explicit \"\", want none", cfg.MetricsListen)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "nope.toml")); err == nil {
		t.Fatal("LoadConfig of a missing file: no error")
	}
}

// FuzzLoadConfig checks that the loader never panics and that whatever it accepts is
// complete: validated, with defaults filled and paths absolute.
func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte(exampleConfig))
	f.Add([]byte(minimalConfig))
	f.Add([]byte("listen = 1"))
	f.Add([]byte("[[provider]]\n[[provider.scope]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig(data, "/etc/tokentray")
		if err != nil {
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		if len(cfg.Providers) == 0 || !filepath.IsAbs(cfg.SealKeysFile) || cfg.ProviderTimeout == 0 {
			t.Fatalf("accepted config incomplete: %+v", cfg)
		}
	})
}

func TestPlainHTTPOnlyOnLoopbackOrBehindProxy(t *testing.T) {
	tests := []struct {
		name, listen, extra, wantErr string
	}{
		{"loopback v4", "127.0.0.1:8787", "", ""},
		{"loopback v6", "[::1]:8787", "", ""},
		{"public", "0.0.0.0:8787", "", "not loopback"},
		{"public v6", "[::]:8787", "", "not loopback"},
		{"public behind proxy", "0.0.0.0:8787", "behind_proxy = true", ""},
		{"public with TLS", "0.0.0.0:8787", "tls_cert = \"c.pem\"\ntls_key = \"k.pem\"", ""},
		{"cert without key", "0.0.0.0:8787", "tls_cert = \"c.pem\"", "go together"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(minimalConfig, `listen = "127.0.0.1:8787"`, "listen = \""+tc.listen+"\"\n"+tc.extra, 1)
			_, err := LoadConfig(writeConfig(t, text))
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("LoadConfig(listen %s, %q) = %v, want %q", tc.listen, tc.extra, err, tc.wantErr)
			}
		})
	}
}

// TestURLRuleSharedWithTheDevice checks public_url and a provider's token_url against the
// cases the device's relay URL is checked against too (relayproto/prototest).
func TestURLRuleSharedWithTheDevice(t *testing.T) {
	for _, tc := range prototest.URLs {
		for _, key := range []string{"public_url", "token_url"} {
			old := `public_url = "https://relay.example.com"`
			if key == "token_url" {
				old = `token_url = "https://f1cx.com/oauth/token"`
			}
			text := strings.Replace(minimalConfig, old, key+" = "+strconv.Quote(tc.URL), 1)
			_, err := parseConfig([]byte(text), "/etc/tokentray")
			if (err == nil) != tc.OK {
				t.Errorf("%s = %q: parseConfig = %v, want ok %v", key, tc.URL, err, tc.OK)
			}
		}
	}
}
