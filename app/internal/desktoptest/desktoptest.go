// Package desktoptest gives a test a private Linux desktop session: a D-Bus
// session bus of its own (dbus-daemon), an X server (Xvfb), and a stand-in
// for the desktop's notification service that records what it is sent.
// Nothing of the user's session is touched.
//
// When dbus-daemon or Xvfb is missing the test is skipped, and says why;
// with TOKENTRAY_DESKTOP_TESTS=require in the environment (CI sets it) it
// fails instead, so that CI cannot skip it unseen.
package desktoptest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/dbustest"
)

// start runs path with args until the test ends and returns the first
// line it writes to its file descriptor 3, within 20 s.
func start(t testing.TB, path string, args ...string) string {
	t.Helper()
	what := filepath.Base(path)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{w}
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s == "" {
			t.Fatalf("%s printed nothing", what)
		}
		return s
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not start within 20 s", what)
	}
	return ""
}

// SessionBus starts a private session bus for the test and returns its
// address, for DBUS_SESSION_BUS_ADDRESS.
func SessionBus(t testing.TB) string {
	t.Helper()
	Need(t, "dbus-daemon", "dbus")
	return dbustest.Start(t)
}

// Xvfb starts a virtual X server for the test and returns its display, for
// DISPLAY.
func Xvfb(t testing.TB) string {
	t.Helper()
	return ":" + start(t, Need(t, "Xvfb", "xvfb"), "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
}

// Session is a private desktop session for a test.
type Session struct {
	Bus     string   // the session bus's address (SessionBus)
	Display string   // the X server's display (Xvfb)
	Home    string   // a home folder for the programs run in the session
	Env     []string // their environment: PATH, HOME, the XDG folders in Home (created), DISPLAY and DBUS_SESSION_BUS_ADDRESS
}

// Start starts a private session bus and X server for the test and makes a
// home folder for the programs it runs there.
func Start(t testing.TB) *Session {
	t.Helper()
	s := &Session{Bus: SessionBus(t), Display: Xvfb(t), Home: t.TempDir()}
	s.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.Home, "DISPLAY=" + s.Display, "DBUS_SESSION_BUS_ADDRESS=" + s.Bus}
	xdg := []struct{ name, dir string }{
		{"XDG_RUNTIME_DIR", filepath.Join(s.Home, "run")},
		{"XDG_DATA_HOME", filepath.Join(s.Home, ".local", "share")},
		{"XDG_CONFIG_HOME", filepath.Join(s.Home, ".config")},
		{"XDG_CACHE_HOME", filepath.Join(s.Home, ".cache")},
	}
	for _, x := range xdg {
		if err := os.MkdirAll(x.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		s.Env = append(s.Env, x.name+"="+x.dir)
	}
	return s
}

// Need returns the path of program, which Debian package pkg installs, or
// skips t (fails it when TOKENTRAY_DESKTOP_TESTS=require) when it is missing.
func Need(t testing.TB, program, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s is not installed (Debian package %s; scripts/install-deps installs it)", program, pkg)
	if os.Getenv("TOKENTRAY_DESKTOP_TESTS") == "require" {
		t.Fatal(msg)
	}
	t.Skip("skipped: " + msg)
	return ""
}

// Xdotool runs the xdotool at path with args in env and returns its
// output, trimmed; it fails t when xdotool does.
func Xdotool(t testing.TB, path string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
