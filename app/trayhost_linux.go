package app

import (
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// TrayHostPresent reports whether the desktop shows tray icons: on Linux,
// whether a StatusNotifierWatcher owns its name on the session bus. Plain
// GNOME and Xvfb have none; there the window must stay reachable. Without a
// session bus it reports false at once rather than launch one.
func TrayHostPresent() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if _, err := os.Stat(filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus")); os.Getenv("XDG_RUNTIME_DIR") == "" || err != nil {
			return false
		}
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}
