package vault

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
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

// errNoSessionBus is ErrNoSecretService when there is no session bus at all.
var errNoSessionBus = &noSessionBusError{}

type noSessionBusError struct{}

func (*noSessionBusError) Error() string {
	return "no session D-Bus, so no Secret Service (OS keyring): DBUS_SESSION_BUS_ADDRESS is unset and /run/user/" +
		strconv.Itoa(os.Getuid()) + "/bus does not exist; run tokentray in a desktop session, or choose a passphrase or memory-only vault"
}

// Is makes errors.Is(err, ErrNoSecretService) true.
func (*noSessionBusError) Is(target error) bool { return target == ErrNoSecretService }

// checkSessionBus reports whether a session bus can be found without starting
// one: DBUS_SESSION_BUS_ADDRESS, else the per-user bus godbus looks for
// (/run/user/UID/bus or dbus-session). Without either, godbus would
// autolaunch a dbus-daemon (dbus-launch --autolaunch), which then activates
// gnome-keyring-daemon: two daemons left running per agent start, for a
// keyring nobody can unlock. So go-keyring is not called at all.
func checkSessionBus(getenv func(string) string) error {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	run := filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, name)); err == nil {
			return nil
		}
	}
	return errNoSessionBus
}
