package vault

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tokentray/tokentray/internal/paths"
)

// Mode chooses where the vault key comes from.
type Mode int

const (
	// ModeKeyring (the default) keeps a random 32-byte vault key in the OS keyring.
	ModeKeyring Mode = iota
	// ModePassphrase derives the vault key from Options.Passphrase with argon2id.
	ModePassphrase
	// ModeMemory persists nothing: the vault lives and dies with the process. Open says so
	// loudly through the logger and in Notices.
	ModeMemory
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case ModeKeyring:
		return "keyring"
	case ModePassphrase:
		return "passphrase"
	case ModeMemory:
		return "memory"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// DefaultKeyringTimeout bounds every keyring call when Options.KeyringTimeout is zero.
const DefaultKeyringTimeout = 10 * time.Second

// Options configures Open. The zero value opens the user's keyring-backed vault.
type Options struct {
	// Dir is the folder of the vault file and its lock. Default: $TOKENTRAY_HOME, else
	// $XDG_DATA_HOME/tokentray, else ~/.local/share/tokentray (macOS and Windows:
	// os.UserConfigDir()/tokentray). Created 0700 if missing.
	Dir string
	// Mode chooses the key source; default ModeKeyring.
	Mode Mode
	// Passphrase is the secret for ModePassphrase. Open wipes it (zeroes the slice)
	// before returning, whatever the outcome.
	Passphrase []byte
	// Keyring is where ModeKeyring keeps the vault key. Default: the OS keyring through
	// github.com/zalando/go-keyring (the Secret Service on Linux).
	Keyring Keyring
	// KeyringTimeout bounds each keyring call; default DefaultKeyringTimeout.
	KeyringTimeout time.Duration
	// Writer names the application version, recorded in the file header so a future
	// version that cannot read the file can say who wrote it. Default "tokentray (dev)".
	Writer string
	// Logger receives the vault's log lines (never a secret). Default slog.Default().
	Logger *slog.Logger
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		d, err := defaultDir()
		if err != nil {
			return o, err
		}
		o.Dir = d
	}
	abs, err := filepath.Abs(o.Dir)
	if err != nil {
		return o, fmt.Errorf("vault: folder: %w", err)
	}
	o.Dir = abs
	if o.Mode < ModeKeyring || o.Mode > ModeMemory {
		return o, fmt.Errorf("vault: unknown mode %d", int(o.Mode))
	}
	if o.Mode == ModePassphrase && len(o.Passphrase) == 0 {
		return o, errors.New("vault: passphrase mode needs a non-empty passphrase")
	}
	if o.Keyring == nil {
		o.Keyring = osKeyring{}
	}
	if o.KeyringTimeout <= 0 {
		o.KeyringTimeout = DefaultKeyringTimeout
	}
	if o.Writer == "" {
		o.Writer = "tokentray (dev)"
	}
	if len(o.Writer) > maxWriterLen {
		o.Writer = o.Writer[:maxWriterLen]
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// defaultDir resolves $TOKENTRAY_HOME, else the system's data folder
// (internal/paths).
func defaultDir() (string, error) {
	d, err := paths.DataDir(paths.Current(os.Getenv))
	if err != nil {
		return "", fmt.Errorf("vault: no folder: set TOKENTRAY_HOME: %w", err)
	}
	return d, nil
}
