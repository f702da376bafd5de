package vault

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	dbus "github.com/godbus/dbus/v5"
)

// classifyKeyringError maps go-keyring's Secret Service errors to the vault's sentinels.
// The D-Bus error text is kept as context: it names interfaces and paths, never a secret.
func classifyKeyringError(err error) error {
	if err == nil || errors.Is(err, errNotFound) {
		return err
	}
	name := ""
	var de dbus.Error
	var pde *dbus.Error
	switch {
	case errors.As(err, &de):
		name = de.Name
	case errors.As(err, &pde):
		name = pde.Name
	}
	switch {
	case name == "org.freedesktop.DBus.Error.ServiceUnknown",
		name == "org.freedesktop.DBus.Error.NameHasNoOwner",
		strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn"):
		return fmt.Errorf("%w: %w", ErrNoSecretService, err)
	case name == "org.freedesktop.Secret.Error.IsLocked":
		return ErrKeyringLocked
	case name == "org.freedesktop.DBus.Error.NoReply", name == "org.freedesktop.DBus.Error.Timeout":
		return fmt.Errorf("%w: %w", ErrKeyringTimeout, err)
	case name != "":
		return fmt.Errorf("keyring: %w", err)
	}
	// go-keyring's Unlock reports a dismissed or refused unlock prompt this way.
	if strings.Contains(err.Error(), "failed to unlock") {
		return ErrKeyringLocked
	}
	// No session bus at all: no address, nothing listening, connection refused.
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, os.ErrNotExist) || strings.HasPrefix(err.Error(), "dbus:") {
		return fmt.Errorf("%w: %w", ErrNoSecretService, err)
	}
	return fmt.Errorf("keyring: %w", err)
}
