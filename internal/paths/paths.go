// Package paths says where tokentray keeps its socket, its config and its vault
// on each system. The choice is a pure function of the system, the environment
// and the home folder, so the rule of every system is tested on any one of them.
//
//	            Linux and other Unix          macOS                                   Windows
//	socket      $XDG_RUNTIME_DIR/tokentray,   ~/Library/Application Support/tokentray %LOCALAPPDATA%\tokentray
//	            else /tmp/tokentray-$UID
//	config      $XDG_CONFIG_HOME/tokentray,   ~/Library/Application Support/tokentray %APPDATA%\tokentray
//	            else ~/.config/tokentray
//	vault       $XDG_DATA_HOME/tokentray,     ~/Library/Application Support/tokentray %APPDATA%\tokentray
//	            else ~/.local/share/tokentray
//
// $TOKENTRAY_SOCK names the socket and $TOKENTRAY_HOME the config and vault
// folder on every system. The macOS and Windows folders are the ones
// os.UserConfigDir (and, for the Windows socket, os.UserCacheDir) return.
package paths

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
)

// SocketName is the socket's file name in its folder.
const SocketName = "agent.sock"

// Env is what the choice depends on.
type Env struct {
	// GOOS is the system, as runtime.GOOS names it.
	GOOS string
	// Getenv reads the environment (os.Getenv outside tests).
	Getenv func(string) string
	// Home is the user's home folder; "" when unknown.
	Home string
	// UID is the user's id (os.Getuid); -1 on Windows.
	UID int
}

// Current is the Env of this process with getenv as its environment.
func Current(getenv func(string) string) Env {
	home, _ := os.UserHomeDir()
	return Env{GOOS: runtime.GOOS, Getenv: getenv, Home: home, UID: os.Getuid()}
}

// errNoHome is returned when a folder depends on a home folder nobody knows.
var errNoHome = errors.New("no home folder")

// Socket returns the agent's socket path: $TOKENTRAY_SOCK, else the system's
// per-user runtime folder (see the package doc).
func Socket(e Env) string {
	if p := e.Getenv("TOKENTRAY_SOCK"); p != "" {
		return p
	}
	switch e.GOOS {
	case "windows":
		if d := e.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "tokentray", SocketName)
		}
		if e.Home != "" {
			return filepath.Join(e.Home, "AppData", "Local", "tokentray", SocketName)
		}
	case "darwin":
		// Not $TMPDIR: cron, ssh sessions and sudo -u may not share launchd's
		// per-user temp folder, and every client must find the same socket.
		if e.Home != "" {
			return filepath.Join(e.Home, "Library", "Application Support", "tokentray", SocketName)
		}
	default:
		if d := e.Getenv("XDG_RUNTIME_DIR"); d != "" {
			return filepath.Join(d, "tokentray", SocketName)
		}
	}
	// Literally /tmp, not $TMPDIR: the CLI, the GUI and scripts must all find
	// the same socket whatever their environment says (docs/socket-api.md).
	return filepath.Join("/tmp", "tokentray-"+strconv.Itoa(e.UID), SocketName)
}

// ConfigDir returns the folder of config.toml: $TOKENTRAY_HOME, else the
// system's per-user config folder (see the package doc).
func ConfigDir(e Env) (string, error) {
	return stateDir(e, "XDG_CONFIG_HOME", ".config")
}

// DataDir returns the vault's folder: $TOKENTRAY_HOME, else the system's
// per-user data folder (see the package doc).
func DataDir(e Env) (string, error) {
	return stateDir(e, "XDG_DATA_HOME", filepath.Join(".local", "share"))
}

// stateDir is ConfigDir and DataDir: on Linux they differ by the XDG
// variable and its default; macOS and Windows keep both in the config folder.
func stateDir(e Env, xdgVar, xdgDefault string) (string, error) {
	if d := e.Getenv("TOKENTRAY_HOME"); d != "" {
		return d, nil
	}
	switch e.GOOS {
	case "windows":
		if d := e.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "tokentray"), nil
		}
		if e.Home != "" {
			return filepath.Join(e.Home, "AppData", "Roaming", "tokentray"), nil
		}
		return "", errNoHome
	case "darwin":
		if e.Home != "" {
			return filepath.Join(e.Home, "Library", "Application Support", "tokentray"), nil
		}
		return "", errNoHome
	}
	if d := e.Getenv(xdgVar); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "tokentray"), nil
	}
	if e.Home == "" {
		return "", errNoHome
	}
	return filepath.Join(e.Home, xdgDefault, "tokentray"), nil
}
