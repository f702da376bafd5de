package app

import (
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// What start at login writes on macOS and Windows, as plain text built
// without any system call, so it is tested on every system; the per-OS files
// autostart_darwin.go and autostart_windows.go put it in place.

// launchAgentLabel is the LaunchAgent's label and file name (without .plist).
const launchAgentLabel = "io.github.tokentray.tokentray"

// launchAgentPlist is the LaunchAgent (~/Library/LaunchAgents) that launchd
// runs at login in the user's GUI session: exe with no arguments, the tray
// app. It is not kept alive: quitting the tray app means it.
func launchAgentPlist(exe string) (string, error) {
	if !strings.HasPrefix(exe, "/") {
		return "", fmt.Errorf("autostart needs an absolute program path, not %q", exe)
	}
	if err := checkPrintable(exe, "a LaunchAgent"); err != nil {
		return "", err
	}
	var esc strings.Builder
	if err := xml.EscapeText(&esc, []byte(exe)); err != nil {
		return "", err
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchAgentLabel + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + esc.String() + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`, nil
}

// runKeyPath and runValueName are where Windows keeps the command it runs at
// login: a value under HKEY_CURRENT_USER.
const (
	runKeyPath   = `Software\Microsoft\Windows\CurrentVersion\Run`
	runValueName = "tokentray"
)

// windowsAbs matches an absolute Windows path: a drive (C:\) or a UNC share.
var windowsAbs = regexp.MustCompile(`^([A-Za-z]:\\|\\\\[^\\]+\\[^\\]+\\)`)

// runValue is the Run value's data (REG_SZ): exe in double quotes, so a path
// with spaces is one program, with no arguments (the tray app).
func runValue(exe string) (string, error) {
	if !windowsAbs.MatchString(exe) {
		return "", fmt.Errorf("autostart needs an absolute program path, not %q", exe)
	}
	if strings.ContainsRune(exe, '"') {
		return "", errors.New("the program path holds a double quote; it cannot go in the Run key")
	}
	if err := checkPrintable(exe, "the Run key"); err != nil {
		return "", err
	}
	return `"` + exe + `"`, nil
}

// checkPrintable refuses control characters and invalid UTF-8, which cannot
// be written into where.
func checkPrintable(s, where string) error {
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("the program path holds a control character; it cannot go in " + where)
	}
	if !utf8.ValidString(s) {
		return errors.New("the program path is not UTF-8; it cannot go in " + where)
	}
	return nil
}
