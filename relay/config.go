package relay

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/tokentray/tokentray/relayproto"
)

// Config is the relay's configuration file (docs/relay.md §1). LoadConfig fills the
// defaults and resolves relative paths; a Config built in code must set them itself.
type Config struct {
	// Listen is the public listener's address, e.g. "127.0.0.1:8787". Required.
	Listen string `toml:"listen"`
	// PublicURL is what browsers reach; the callback is PublicURL + "/v1/callback".
	// Required; https, or http on a loopback host.
	PublicURL string `toml:"public_url"`
	// TLSCert and TLSKey make the relay serve TLS itself; both or neither.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// BehindProxy trusts X-Forwarded-For (rate limiting only) and allows plain HTTP on
	// a non-loopback Listen. Default false.
	BehindProxy bool `toml:"behind_proxy"`
	// SealKeysFile holds lines "KID KEY"; the first key seals, all keys open. Required.
	SealKeysFile string `toml:"seal_keys_file"`
	// RatePerMinute is the per-client-IP request rate. Default 60.
	RatePerMinute int `toml:"rate_per_minute"`
	// ProviderCallsPerSecond caps calls to each provider. Default 20.
	ProviderCallsPerSecond int `toml:"provider_calls_per_second"`
	// ProviderTimeout bounds every provider call. Default 15s.
	ProviderTimeout time.Duration `toml:"provider_timeout"`
	// MetricsListen is where /metrics is served; never the public listener.
	// Default "127.0.0.1:9787"; an explicit "" serves no metrics.
	MetricsListen string `toml:"metrics_listen"`
	// SharedStore is the Redis 7 or Valkey that replicas share: "redis://host:port/db",
	// or "rediss://" for TLS; a user name may be given, a password never. Proofs seen,
	// spent results and tickets, refresh answers (sealed), single-flight locks and rate
	// limits live there. Default "": all of it in this process's memory.
	SharedStore string `toml:"shared_store"`
	// SharedStorePasswordFile or SharedStorePasswordEnv names where the store's
	// password is read from; neither means no password.
	SharedStorePasswordFile string `toml:"shared_store_password_file"`
	SharedStorePasswordEnv  string `toml:"shared_store_password_env"`
	// RefreshAnswerWindow is how long a refresh answer is kept for a retry. Default 2m,
	// 24h with SharedStore; between 1m and 168h.
	RefreshAnswerWindow time.Duration `toml:"refresh_answer_window"`
	// Providers are the OAuth providers the relay brokers. At least one.
	Providers []Provider `toml:"provider"`
}

// Provider is one [[provider]] table of the relay's configuration: the profile both
// sides share, and where the client secret is read from.
type Provider struct {
	relayproto.Provider
	// ClientSecretFile or ClientSecretEnv names where the client secret is read from.
	ClientSecretFile string `toml:"client_secret_file"`
	ClientSecretEnv  string `toml:"client_secret_env"`
	// ClientSecret is never read from the file; it is for Configs built in code (the
	// demo). When set it wins over the file and the environment.
	ClientSecret string `toml:"-"`
}

const maxConfigSize = 1 << 20

var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// LoadConfig reads, defaults and validates the TOML file at path. Unknown keys are an
// error naming the key; relative paths resolve from the file's folder. It does not
// read the seal keys or secrets; New does, and fails if they are missing or malformed.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config folder: %w", err)
	}
	cfg, err := parseConfig(data, dir)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// defaultMetricsListen is metrics_listen when the file does not set it.
const defaultMetricsListen = "127.0.0.1:9787"

// parseConfig decodes and validates data, resolving relative paths from dir.
func parseConfig(data []byte, dir string) (*Config, error) {
	if len(data) > maxConfigSize {
		return nil, errors.New("file larger than 1 MiB")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errors.New("file contains a NUL byte")
	}
	var cfg Config
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		key := undecoded[0].String()
		if strings.HasSuffix(key, "client_secret") {
			return nil, fmt.Errorf("key %q: secrets never appear inline; use client_secret_file or client_secret_env", key)
		}
		if key == "shared_store_password" {
			return nil, fmt.Errorf("key %q: secrets never appear inline; use shared_store_password_file or shared_store_password_env", key)
		}
		return nil, fmt.Errorf("unknown key %q", key)
	}
	if err := cfg.checkWrittenZeros(md); err != nil {
		return nil, err
	}
	if !md.IsDefined("metrics_listen") {
		cfg.MetricsListen = defaultMetricsListen
	}
	cfg.applyDefaults(dir)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// checkWrittenZeros refuses a limit the file sets to zero, which applyDefaults
// would otherwise quietly turn into the default.
func (c *Config) checkWrittenZeros(md toml.MetaData) error {
	switch {
	case md.IsDefined("rate_per_minute") && c.RatePerMinute == 0:
		return errors.New("rate_per_minute 0 must be at least 1")
	case md.IsDefined("provider_calls_per_second") && c.ProviderCallsPerSecond == 0:
		return errors.New("provider_calls_per_second 0 must be at least 1")
	case md.IsDefined("provider_timeout") && c.ProviderTimeout == 0:
		return errors.New("provider_timeout 0s must be between 1s and 5m")
	case md.IsDefined("refresh_answer_window") && c.RefreshAnswerWindow == 0:
		return errors.New("refresh_answer_window 0s must be between 1m and 168h")
	}
	return nil
}

// applyDefaults fills the settings left at their zero value.
func (c *Config) applyDefaults(dir string) {
	if c.RatePerMinute == 0 {
		c.RatePerMinute = 60
	}
	if c.ProviderCallsPerSecond == 0 {
		c.ProviderCallsPerSecond = 20
	}
	if c.ProviderTimeout == 0 {
		c.ProviderTimeout = 15 * time.Second
	}
	if c.RefreshAnswerWindow == 0 {
		c.RefreshAnswerWindow = relayproto.AnswerWindow
		if c.SharedStore != "" {
			c.RefreshAnswerWindow = defaultSharedAnswerWindow
		}
	}
	c.SharedStorePasswordFile = resolvePath(dir, c.SharedStorePasswordFile)
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	c.SealKeysFile = resolvePath(dir, c.SealKeysFile)
	c.TLSCert = resolvePath(dir, c.TLSCert)
	c.TLSKey = resolvePath(dir, c.TLSKey)
	for i := range c.Providers {
		p := &c.Providers[i]
		p.ClientSecretFile = resolvePath(dir, p.ClientSecretFile)
		if p.RevokeStyle == "" {
			p.RevokeStyle = relayproto.RevokeDoorkeeper
		}
		if p.AuthStyle == "" {
			p.AuthStyle = relayproto.AuthParams
		}
		if p.DefaultLifetime == 0 {
			p.DefaultLifetime = relayproto.Duration(4 * time.Hour)
		}
		for j := range p.Fields {
			if p.Fields[j].Kind == "" {
				p.Fields[j].Kind = "text"
			}
		}
	}
}

// providerCallCap is the hard bound on one provider call: it runs on a context of its
// own and may outlive provider_timeout, which only bounds how long a device waits, so
// that a slow provider's answer still reaches the answer window.
func (c *Config) providerCallCap() time.Duration {
	return 3 * c.ProviderTimeout
}

func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// validate reports the first missing or malformed setting.
func (c *Config) validate() error {
	if c.Listen == "" {
		return errors.New("listen is required")
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("listen %q: %w", c.Listen, err)
	}
	if err := checkPublicURL(c.PublicURL); err != nil {
		return err
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls_cert and tls_key go together")
	}
	if c.TLSCert == "" && !c.BehindProxy && !relayproto.IsLoopbackHost(host) {
		return fmt.Errorf("listen %q is not loopback: set tls_cert and tls_key, or behind_proxy = true", c.Listen)
	}
	if c.SealKeysFile == "" {
		return errors.New("seal_keys_file is required")
	}
	if c.RatePerMinute < 1 {
		return fmt.Errorf("rate_per_minute %d must be at least 1", c.RatePerMinute)
	}
	if c.ProviderCallsPerSecond < 1 {
		return fmt.Errorf("provider_calls_per_second %d must be at least 1", c.ProviderCallsPerSecond)
	}
	if c.ProviderTimeout < time.Second || c.ProviderTimeout > 5*time.Minute {
		return fmt.Errorf("provider_timeout %s must be between 1s and 5m", c.ProviderTimeout)
	}
	if c.RefreshAnswerWindow < time.Minute || c.RefreshAnswerWindow > 168*time.Hour {
		return fmt.Errorf("refresh_answer_window %s must be between 1m and 168h", c.RefreshAnswerWindow)
	}
	if err := c.validateStore(); err != nil {
		return err
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return fmt.Errorf("metrics_listen %q: %w", c.MetricsListen, err)
		}
		if c.MetricsListen == c.Listen {
			return errors.New("metrics_listen must differ from listen")
		}
	}
	if len(c.Providers) == 0 {
		return errors.New("at least one [[provider]] is required")
	}
	seen := map[string]bool{}
	for i := range c.Providers {
		p := &c.Providers[i]
		if err := p.validate(); err != nil {
			if p.ID != "" {
				return fmt.Errorf("provider %q: %w", p.ID, err)
			}
			return fmt.Errorf("provider #%d: %w", i+1, err)
		}
		if seen[p.ID] {
			return fmt.Errorf("provider %q: duplicate id", p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

// validateStore checks shared_store and its password source.
func (c *Config) validateStore() error {
	if c.SharedStore == "" {
		if c.SharedStorePasswordFile != "" || c.SharedStorePasswordEnv != "" {
			return errors.New("shared_store_password_file and shared_store_password_env need shared_store")
		}
		return nil
	}
	u, err := url.Parse(c.SharedStore)
	if err != nil {
		return errors.New("shared_store is not a URL") // the parse error may quote a password
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return fmt.Errorf("shared_store scheme %q must be redis or rediss (TLS)", u.Scheme)
	}
	if _, hasPassword := u.User.Password(); hasPassword {
		return errors.New("shared_store: the password never appears inline; use shared_store_password_file or shared_store_password_env")
	}
	if u.Hostname() == "" {
		return fmt.Errorf("shared_store %q has no host", u.Redacted())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("shared_store %q: port must be a number from 1 to 65535", u.Redacted())
		}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("shared_store %q must have no query or fragment", u.Redacted())
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if _, err := strconv.ParseUint(db, 10, 16); err != nil {
			return fmt.Errorf("shared_store %q: the path must be /DB, a database number", u.Redacted())
		}
	}
	if c.SharedStorePasswordFile != "" && c.SharedStorePasswordEnv != "" {
		return errors.New("set only one of shared_store_password_file and shared_store_password_env")
	}
	if c.SharedStorePasswordEnv != "" && !envNamePattern.MatchString(c.SharedStorePasswordEnv) {
		return fmt.Errorf("shared_store_password_env %q is not a variable name", c.SharedStorePasswordEnv)
	}
	return nil
}

func checkPublicURL(s string) error {
	if s == "" {
		return errors.New("public_url is required")
	}
	u, err := relayproto.CheckURL(s)
	if err != nil {
		return fmt.Errorf("public_url %q: %w", s, err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("public_url %q must be an absolute URL without user, query or fragment", s)
	}
	return nil
}

// validate checks the profile with the one validator both sides share, then what only
// the relay requires: its endpoints and a secret source.
func (p *Provider) validate() error {
	if err := p.Provider.Validate(); err != nil {
		return err
	}
	for _, u := range []struct{ key, val string }{
		{"authorize_url", p.AuthorizeURL}, {"token_url", p.TokenURL},
	} {
		if u.val == "" {
			return fmt.Errorf("%s is required", u.key)
		}
	}
	secrets := 0
	for _, s := range []string{p.ClientSecret, p.ClientSecretFile, p.ClientSecretEnv} {
		if s != "" {
			secrets++
		}
	}
	if secrets == 0 {
		return errors.New("client_secret_file or client_secret_env is required")
	}
	if p.ClientSecretFile != "" && p.ClientSecretEnv != "" {
		return errors.New("set only one of client_secret_file and client_secret_env")
	}
	if p.ClientSecretEnv != "" && !envNamePattern.MatchString(p.ClientSecretEnv) {
		return fmt.Errorf("client_secret_env %q is not a variable name", p.ClientSecretEnv)
	}
	return nil
}
