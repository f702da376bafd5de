package relay

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewRefusesMissingParts(t *testing.T) {
	f := newFixture(t)
	cfg, err := LoadConfig(func() string {
		f.writeFile("relay.toml", f.configText("http://127.0.0.1:1"))
		return filepath.Join(f.dir, "relay.toml")
	}())
	if err != nil {
		t.Fatal(err)
	}
	quiet := WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		name    string
		edit    func(c *Config)
		wantErr string
	}{
		{"no seal keys", func(c *Config) { c.SealKeysFile = filepath.Join(f.dir, "none") }, "seal_keys_file"},
		{"no secret file", func(c *Config) { c.Providers[0].ClientSecretFile = filepath.Join(f.dir, "none") }, "client_secret_file"},
		{"empty secret", func(c *Config) {
			f.writeFile("empty.secret", "\n")
			c.Providers[0].ClientSecretFile = filepath.Join(f.dir, "empty.secret")
		}, "is empty"},
		{"unset env", func(c *Config) {
			c.Providers[0].ClientSecretFile = ""
			c.Providers[0].ClientSecretEnv = "TOKENTRAY_RELAY_TEST_UNSET"
		}, "not set"},
		{"zero timeout invalid", func(c *Config) { c.ProviderTimeout = time.Millisecond }, "provider_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := *cfg
			c.Providers = append([]Provider(nil), cfg.Providers...)
			tc.edit(&c)
			_, err := New(&c, quiet)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New = %v, want error containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testClientSecret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
	t.Run("in-code config gets defaults", func(t *testing.T) {
		c := *cfg
		c.ProviderTimeout, c.RatePerMinute = 0, 0
		c.Providers = append([]Provider(nil), cfg.Providers...)
		c.Providers[0].ClientSecretFile, c.Providers[0].ClientSecret = "", "in-memory"
		s, err := New(&c, quiet)
		if err != nil {
			t.Fatalf("New = %v", err)
		}
		if s.cfg.ProviderTimeout != 15*time.Second || s.providers["exchange"].secret != "in-memory" {
			t.Errorf("timeout %s, secret from ClientSecret %v", s.cfg.ProviderTimeout, s.providers["exchange"].secret == "in-memory")
		}
	})
}

func TestSecretFileWarning(t *testing.T) {
	f := newFixture(t)
	if err := os.Chmod(filepath.Join(f.dir, "exchange.secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.newRelay()
	if !strings.Contains(f.logs.String(), "open to other users") {
		t.Errorf("no warning for a 0644 client secret file")
	}
}

func TestUnknownRoute(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	for _, path := range []string{"/", "/v1/nope", "/metrics"} {
		resp := f.get(relayURL + path)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantError(t, resp.StatusCode, body, http.StatusNotFound, "not_found")
	}
}
