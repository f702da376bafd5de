//go:build !linux

package app

// TrayHostPresent reports whether the desktop shows tray icons; outside
// Linux the menu bar or notification area always does.
func TrayHostPresent() bool { return true }
