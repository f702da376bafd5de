//go:build !linux

package app

import "context"

// TrayHostPresent reports whether the desktop shows tray icons; outside
// Linux the menu bar or notification area always does.
func TrayHostPresent() bool { return true }

// TrayHostPossible reports whether a tray host could appear: outside Linux
// there is always one.
func TrayHostPossible() bool { return true }

// WatchTrayHost reports a tray host, there for good outside Linux.
func WatchTrayHost(ctx context.Context, changed func(present bool)) bool { return true }
