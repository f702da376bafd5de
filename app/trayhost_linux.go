package app

import (
	"context"
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// trayWatcherName is the bus name a desktop's tray host owns.
const trayWatcherName = "org.kde.StatusNotifierWatcher"

// sessionBusAround reports whether a session bus can be reached without
// launching one: an address in the environment, or the user's bus socket.
func sessionBusAround() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return true
	}
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, "bus"))
	return err == nil
}

// TrayHostPossible reports whether a tray host could ever appear: on Linux,
// whether a session bus is there. Without one, Fyne's tray would launch a
// bus of its own to look for a host; the app goes without a tray instead.
func TrayHostPossible() bool { return sessionBusAround() }

// TrayHostPresent reports whether the desktop shows tray icons: on Linux,
// whether a StatusNotifierWatcher owns its name on the session bus. Plain
// GNOME and Xvfb have none; there the window must stay reachable. Without a
// session bus it reports false at once rather than launch one.
func TrayHostPresent() bool {
	if !sessionBusAround() {
		return false
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return false
	}
	return watcherOwned(conn)
}

func watcherOwned(conn *dbus.Conn) bool {
	var has bool
	err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, trayWatcherName).Store(&has)
	return err == nil && has
}

// WatchTrayHost follows the desktop's tray host (a StatusNotifierWatcher on
// the session bus): it returns whether one is there now, then calls changed
// from its own goroutine each time one appears (the panel started after
// tokentray, or restarted) or goes away, until ctx ends. Without a session
// bus it reports false and watches nothing rather than launch a bus.
func WatchTrayHost(ctx context.Context, changed func(present bool)) bool {
	if !sessionBusAround() {
		return false
	}
	// A connection of its own: closing it ends the watch and leaves the
	// shared one (Fyne's, systray's) alone.
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	// Subscribe before asking, so that no change between the two is lost;
	// the signals queued meanwhile are applied in order after the answer.
	sigs := make(chan *dbus.Signal, 16)
	conn.Signal(sigs)
	err = conn.AddMatchSignal(
		dbus.WithMatchObjectPath("/org/freedesktop/DBus"),
		dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, trayWatcherName),
	)
	present := watcherOwned(conn)
	if err != nil {
		conn.Close()
		return present
	}
	go func() {
		defer conn.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case s, ok := <-sigs:
				if !ok {
					return // the bus went away
				}
				if s.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(s.Body) != 3 {
					continue
				}
				name, _ := s.Body[0].(string)
				owner, _ := s.Body[2].(string)
				if name == trayWatcherName {
					changed(owner != "")
				}
			}
		}
	}()
	return present
}
