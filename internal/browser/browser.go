// Package browser opens a URL in the user's browser: $BROWSER as Python's
// webbrowser reads it, else the system's opener (xdg-open, open(1),
// ShellExecute). It opens only https URLs, or http to a loopback host, and
// never one that starts with '-' (docs/config.md). The flows never open a
// browser themselves; they are handed one of these.
package browser

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/tokentray/tokentray/relayproto"
)

// CheckURL reports, as an error wrapping relayproto.ErrURLRefused, whether u may
// not be opened: only https URLs, or http to a loopback host, and never
// one starting with "-" (it would read as a command-line option).
func CheckURL(u string) error {
	if strings.HasPrefix(u, "-") {
		return fmt.Errorf("url starts with '-': %w", relayproto.ErrURLRefused)
	}
	if strings.ContainsAny(u, "\x00\r\n") {
		return fmt.Errorf("url holds control characters: %w", relayproto.ErrURLRefused)
	}
	_, err := relayproto.CheckURL(u)
	return err
}

// XDGOpen opens url with xdg-open, the desktop's opener on Linux and other
// Unix desktops. System picks the opener of the running system.
func XDGOpen(ctx context.Context, url string) error {
	if err := CheckURL(url); err != nil {
		return err
	}
	return startDetached([]string{"xdg-open", url})
}

// FromEnv returns the default opener. It reads BROWSER through env
// (os.Getenv in production) on every call, as Python's webbrowser and
// xdg-open do (docs/config.md): a list of commands separated by the system's
// path-list separator (':', or ';' on Windows, as Python's os.pathsep), each
// split on spaces and run without a shell; "%s" in an argument is replaced
// by the URL, else the URL is appended. The first command that starts wins;
// it is not waited for (but is reaped), and no display is required. When
// BROWSER is unset or empty, fallback opens the URL (nil means System).
// URLs CheckURL refuses are never handed to any command.
func FromEnv(env func(string) string, fallback func(ctx context.Context, url string) error) func(ctx context.Context, url string) error {
	if fallback == nil {
		fallback = System
	}
	return func(ctx context.Context, url string) error {
		if err := CheckURL(url); err != nil {
			return err
		}
		spec := ""
		if env != nil {
			spec = strings.TrimSpace(env("BROWSER"))
		}
		if spec == "" {
			return fallback(ctx, url)
		}
		var errs []error
		for _, entry := range strings.Split(spec, string(os.PathListSeparator)) {
			argv := browserArgv(entry, url)
			if argv == nil {
				continue
			}
			err := startDetached(argv)
			if err == nil {
				return nil
			}
			errs = append(errs, err)
		}
		if len(errs) == 0 {
			return errors.New("open browser: BROWSER names no command")
		}
		return fmt.Errorf("open browser: %w", errors.Join(errs...))
	}
}

// browserArgv splits one BROWSER entry into argv with the URL in place of
// "%s", or appended; nil for an empty entry.
func browserArgv(entry, url string) []string {
	argv := strings.Fields(entry)
	if len(argv) == 0 {
		return nil
	}
	replaced := false
	for i := 1; i < len(argv); i++ {
		if strings.Contains(argv[i], "%s") {
			argv[i] = strings.ReplaceAll(argv[i], "%s", url)
			replaced = true
		}
	}
	if !replaced {
		argv = append(argv, url)
	}
	return argv
}

// environ is the environment a browser starts with; nil: this process's.
var environ atomic.Pointer[[]string]

// KeepEnvironment makes every browser started from now on get env, not the
// process's environment of that moment. The demo keeps its tray app's
// files in its temporary home by pointing XDG_CONFIG_HOME there, and calls
// this first, so that the trader's browser still starts with the trader's
// own settings and profile.
func KeepEnvironment(env []string) {
	env = slices.Clone(env)
	environ.Store(&env)
}

// startDetached starts argv without a shell, with no stdin/stdout/stderr,
// and reaps it in the background; it does not wait for it to exit. The
// error names only the command, never its arguments (the URL).
func startDetached(argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	if env := environ.Load(); env != nil {
		cmd.Env = *env
	}
	if err := cmd.Start(); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			return fmt.Errorf("start %s: %w", argv[0], ee.Err)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("start %s: %w", argv[0], pe.Err)
		}
		return fmt.Errorf("start %s: failed", argv[0])
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
