// Package agentd assembles a running agent: it reads config.toml, opens the
// vault, makes the relay client, starts the agent and serves the socket API.
// `tokentray agent`, the tray app and the demo all start the agent through it.
package agentd

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/tokentray/tokentray/internal/paths"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// FileConfig is config.toml (docs/config.md).
type FileConfig struct {
	// RelayURL is the relay's base URL; $TOKENTRAY_RELAY wins over it.
	RelayURL string `toml:"relay_url"`
	// Vault is where the vault key lives: "keyring" (default), "passphrase"
	// (asked at start) or "memory" (nothing is kept across restarts).
	Vault string `toml:"vault"`
	// Providers are local public clients, run without the relay.
	Providers []oauthflow.Provider `toml:"provider"`
	// ApproveApps makes token, sign and proxy need a human's grant per app
	// × connection (default off for a headless agent). No socket call can
	// turn it off.
	ApproveApps bool `toml:"approve_apps"`
}

// ConfigDir is where config.toml lives: $TOKENTRAY_HOME, else
// $XDG_CONFIG_HOME/tokentray, else ~/.config/tokentray (macOS and Windows:
// os.UserConfigDir()/tokentray; internal/paths has the rule of each system).
func ConfigDir(getenv func(string) string) (string, error) {
	d, err := paths.ConfigDir(paths.Current(getenv))
	if err != nil {
		return "", fmt.Errorf("no config folder: set TOKENTRAY_HOME: %w", err)
	}
	return d, nil
}

// LoadConfig reads path; a missing file is an empty config. Unknown keys
// are an error that names them.
func LoadConfig(path string) (FileConfig, error) {
	var fc FileConfig
	md, err := toml.DecodeFile(path, &fc)
	if errors.Is(err, os.ErrNotExist) {
		return FileConfig{}, nil
	}
	if err != nil {
		return FileConfig{}, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return FileConfig{}, fmt.Errorf("config %s: unknown key %s", path, strings.Join(keys, ", "))
	}
	switch fc.Vault {
	case "", "keyring", "passphrase", "memory":
	default:
		return FileConfig{}, fmt.Errorf("config %s: vault = %q: want keyring, passphrase or memory", path, fc.Vault)
	}
	for i := range fc.Providers {
		p := &fc.Providers[i]
		if p.TokenFormat == "" {
			p.TokenFormat = relayproto.FormatBearer
		}
		if err := p.CheckLocal(); err != nil {
			if p.ID != "" {
				return FileConfig{}, fmt.Errorf("config %s: provider %q: %w", path, p.ID, err)
			}
			return FileConfig{}, fmt.Errorf("config %s: provider #%d: %w", path, i+1, err)
		}
	}
	return fc, nil
}

// RelayURL returns the relay's base URL: $TOKENTRAY_RELAY, else relay_url.
// It must be https, or http on a loopback host.
func RelayURL(getenv func(string) string, fc FileConfig) (string, error) {
	raw := getenv("TOKENTRAY_RELAY")
	if raw == "" {
		raw = fc.RelayURL
	}
	if raw == "" {
		return "", nil
	}
	if _, err := relayproto.CheckURL(raw); err != nil {
		return "", fmt.Errorf("relay URL %q: %w", raw, err)
	}
	return strings.TrimRight(raw, "/"), nil
}
