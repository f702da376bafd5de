// Package screenlock tells when the user's screen locks, so that what was
// granted to whoever sits at the keyboard (an interactive terminal's app
// grant) ends with the session.
//
// On Linux it watches D-Bus: the session bus for a screen saver's
// ActiveChanged(true) (org.freedesktop.ScreenSaver, org.gnome.ScreenSaver
// and the MATE, Cinnamon and Xfce ones), and the system bus for logind's
// Lock signal and LockedHint of this process's session. Elsewhere it
// watches nothing (Start answers ErrUnsupported).
//
// Security model: any program on a bus can emit these signals. A forged
// lock only ends grants early, so the user is asked again; a lock the
// watcher misses leaves a terminal's grant to its time limit.
package screenlock

import (
	"errors"
	"log/slog"
	"time"
)

// ErrUnsupported is Start's error on systems where the screen lock is not
// watched.
var ErrUnsupported = errors.New("watching the screen lock is not supported on this system")

// Config configures Start. The zero value watches the user's buses.
type Config struct {
	// Getenv reads DBUS_SESSION_BUS_ADDRESS, DBUS_SYSTEM_BUS_ADDRESS and
	// XDG_SESSION_ID; default os.Getenv.
	Getenv func(string) string
	// Timeout bounds connecting to each bus and each call on it; default
	// 3 seconds. A bus that does not answer in time is not watched.
	Timeout time.Duration
	// Quiet folds locks reported less than Quiet after the previous one
	// into it (a desktop often reports one lock on several signals);
	// default 2 seconds, negative for none.
	Quiet time.Duration
	// Logger gets the watcher's log; default slog.Default().
	Logger *slog.Logger
}

// Lock is one reported lock: Source names the signal (the screen saver's
// interface, or "login1").
type Lock struct {
	Source string
}

// quiet reports whether a lock at now falls within quiet of the previous
// one at last, and is folded into it.
func quiet(last, now time.Time, q time.Duration) bool {
	return q > 0 && !last.IsZero() && now.Sub(last) < q
}
