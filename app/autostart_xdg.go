//go:build !darwin && !windows

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Start at login follows the XDG Autostart spec on Linux and other Unix
// desktops: a desktop entry in $XDG_CONFIG_HOME/autostart (default
// ~/.config/autostart) that the desktop runs when the user logs in. The
// agent's "autostart" setting records the choice; this file makes the
// desktop act on it (macOS: autostart_darwin.go, Windows: autostart_windows.go).

// autostartFile is the entry's file name.
const autostartFile = "tokentray.desktop"

// autostartPath is where the entry lives.
func autostartPath(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "autostart", autostartFile), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("find the autostart folder: %w", err)
		}
	}
	return filepath.Join(home, ".config", "autostart", autostartFile), nil
}

// setAutostart writes the entry that starts exe at login (on) or removes it
// (off). Removing an absent entry is not an error.
func setAutostart(getenv func(string) string, exe string, on bool) error {
	path, err := autostartPath(getenv)
	if err != nil {
		return err
	}
	if !on {
		return removeStartFile(path, "the autostart entry")
	}
	entry, err := desktopEntry(exe)
	if err != nil {
		return err
	}
	return writeStartFile(path, entry, "the autostart entry")
}

// autostartOn reports whether the autostart entry exists.
func autostartOn(getenv func(string) string) bool {
	return startFileExists(autostartPath(getenv))
}

// desktopEntry is the autostart entry that runs exe with no arguments (the
// tray app).
func desktopEntry(exe string) (string, error) {
	if !filepath.IsAbs(exe) {
		return "", fmt.Errorf("autostart needs an absolute program path, not %q", exe)
	}
	q, err := execQuote(exe)
	if err != nil {
		return "", err
	}
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=tokentray\n" +
		"Comment=Fresh exchange API keys for your scripts\n" +
		"Exec=" + q + "\n" +
		"Icon=io.github.tokentray.tokentray\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n", nil
}

// execQuote writes one argument for an Exec key (Desktop Entry spec,
// "The Exec key"): inside double quotes, `"`, "`", `$` and `\` get a
// backslash; then the string escape doubles every backslash; `%` becomes
// `%%`. Control characters and invalid UTF-8 cannot be written and are
// refused.
func execQuote(arg string) (string, error) {
	if strings.ContainsFunc(arg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", errors.New("the program path holds a control character; it cannot go in a desktop entry")
	}
	if !utf8.ValidString(arg) {
		return "", errors.New("the program path is not UTF-8; it cannot go in a desktop entry")
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range arg {
		switch r {
		case '"', '`', '$':
			b.WriteString(`\\` + string(r)) // quoting backslash, itself string-escaped
		case '\\':
			b.WriteString(`\\\\`)
		case '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
