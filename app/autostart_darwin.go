package app

import (
	"fmt"
	"os"
	"path/filepath"
)

// Start at login on macOS is a LaunchAgent: launchAgentPlist in
// ~/Library/LaunchAgents, which launchd runs at the user's next login. It is
// not loaded now: the tray app is already running.

// autostartPath is where the LaunchAgent lives.
func autostartPath(getenv func(string) string) (string, error) {
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("find the LaunchAgents folder: %w", err)
		}
	}
	return filepath.Join(home, "Library", "LaunchAgents", launchAgentLabel+".plist"), nil
}

// setAutostart writes the LaunchAgent that starts exe at login (on) or
// removes it (off). Removing an absent one is not an error.
func setAutostart(getenv func(string) string, exe string, on bool) error {
	path, err := autostartPath(getenv)
	if err != nil {
		return err
	}
	if !on {
		return removeStartFile(path, "the LaunchAgent")
	}
	plist, err := launchAgentPlist(exe)
	if err != nil {
		return err
	}
	return writeStartFile(path, plist, "the LaunchAgent")
}

// autostartOn reports whether the LaunchAgent exists.
func autostartOn(getenv func(string) string) bool {
	return startFileExists(autostartPath(getenv))
}
