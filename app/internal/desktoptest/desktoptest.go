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
)

// need returns the path of program, or skips (fails when required) t.
func need(t testing.TB, program, pkg string) string {
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
	return start(t, need(t, "dbus-daemon", "dbus"), "--session", "--nofork", "--nopidfile", "--print-address=3")
}

// Xvfb starts a virtual X server for the test and returns its display, for
// DISPLAY.
func Xvfb(t testing.TB) string {
	t.Helper()
	return ":" + start(t, need(t, "Xvfb", "xvfb"), "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
}

// Need returns the path of program, which Debian package pkg installs, or
// skips t (fails it when TOKENTRAY_DESKTOP_TESTS=require) when it is missing.
func Need(t testing.TB, program, pkg string) string {
	t.Helper()
	return need(t, program, pkg)
}
