package vault

import (
	"errors"
	"fmt"
)

// Sentinel errors the UI and the agent branch on. Each says what happened and what to do;
// the vault wraps them with context (paths, keyring item names — never a secret).
var (
	// ErrNoSecretService means no Secret Service (OS keyring) answers on the session bus.
	ErrNoSecretService = errors.New("no Secret Service (OS keyring) is reachable: start gnome-keyring or KWallet in this session, or choose a passphrase or memory-only vault")
	// ErrKeyringLocked means the keyring is locked and was not unlocked.
	ErrKeyringLocked = errors.New("the OS keyring is locked: unlock it (log in to the desktop session or answer its unlock prompt) and try again, or choose a passphrase vault")
	// ErrKeyringTimeout means a keyring call did not finish within Options.KeyringTimeout,
	// usually because the keyring shows an unlock prompt nobody answers.
	ErrKeyringTimeout = errors.New("the OS keyring did not answer in time: it may be waiting on an unlock prompt; answer it and try again, or choose a passphrase vault")
	// ErrKeyMissing means the vault file exists but the keyring has no key for it.
	ErrKeyMissing = errors.New("the vault file exists but its key is missing from the OS keyring")
	// ErrWrongPassphrase means the passphrase does not open the vault file.
	ErrWrongPassphrase = errors.New("wrong passphrase for the vault")
	// ErrModeMismatch means the vault file was written in another Mode than the one asked for.
	ErrModeMismatch = errors.New("the vault file was written in another mode")
	// ErrKeyringConflict means a keyring item already exists for a vault id being created;
	// the vault never overwrites a keyring item.
	ErrKeyringConflict = errors.New("a keyring item already exists for the new vault id; refusing to overwrite it")
	// ErrItemNotFound is what a Keyring's Get returns (or wraps) when it has no such item.
	// It is go-keyring's own ErrNotFound, so the OS keyring needs no translation.
	ErrItemNotFound = errNotFound
	// ErrClosed is returned by calls on a closed Vault.
	ErrClosed = errors.New("vault is closed")
)

// AlreadyRunningError is returned by Open when another process holds the vault's lock.
type AlreadyRunningError struct {
	// PID is the process that holds the lock; 0 when it could not be read.
	PID int
}

// Error implements error: "already running (pid N)".
func (e *AlreadyRunningError) Error() string {
	if e.PID == 0 {
		return "vault: tokentray is already running (pid unknown)"
	}
	return fmt.Sprintf("vault: tokentray is already running (pid %d)", e.PID)
}

// NewerVersionError is returned by Open when the vault file has a format version newer than
// this build understands. The file is left untouched.
type NewerVersionError struct {
	// Version is the file's format version.
	Version int
	// Writer is the application version string recorded by whoever wrote the file.
	Writer string
}

// Error implements error, naming the version that wrote the file.
func (e *NewerVersionError) Error() string {
	return fmt.Sprintf("vault: the vault file has format version %d, written by %q; this build reads up to version %d: upgrade tokentray (the file was not touched)",
		e.Version, e.Writer, formatVersion)
}
