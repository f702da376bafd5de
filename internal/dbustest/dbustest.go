// Package dbustest runs a private dbus-daemon for tests: a real bus on
// which a test exports the services it stands in for (a screen saver,
// logind, polkit's authority) and emits their signals. One daemon can play
// both the session and the system bus.
package dbustest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

// Start starts a private dbus-daemon with the session configuration (any
// client may own any name and send anything), stops it at the test's end
// and returns its address. It skips the test when dbus-daemon is not
// installed (scripts/install-deps installs it).
func Start(t testing.TB) string {
	t.Helper()
	bin, dir := prepare(t)
	return run(t, exec.Command(bin, "--session", "--nofork", "--nopidfile",
		"--address=unix:path="+filepath.Join(dir, "bus"), "--print-address=1"))
}

// StartShared starts a private dbus-daemon that any user may connect to,
// in a folder others can reach, for a daemon that drops its privileges
// (polkitd runs as the polkitd user), and returns its address. Like Start,
// it skips the test without dbus-daemon.
func StartShared(t testing.TB) string {
	t.Helper()
	bin, dir := prepare(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "bus.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=`+filepath.Join(dir, "bus")+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return run(t, exec.Command(bin, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1"))
}

// prepare returns dbus-daemon's path and a new folder for its socket,
// removed at the test's end. It skips the test when dbus-daemon is not
// installed.
func prepare(t testing.TB) (bin, dir string) {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed; scripts/install-deps installs it (apt-get install dbus)")
	}
	// A short folder: a socket path has at most 107 bytes, and t.TempDir
	// carries the test's name.
	dir, err = os.MkdirTemp("", "dbustest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return bin, dir
}

// run starts cmd, a dbus-daemon that prints its address, stops it at the
// test's end and returns the address.
func run(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	// Its stderr is dropped: unprivileged, it complains about its fd limit.
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatal("dbus-daemon printed no address")
		}
		return addr
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address within 10 s")
	}
	return ""
}

// Connect connects to the bus at addr; the connection closes at the test's
// end.
func Connect(t testing.TB, addr string) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to the test bus: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Own makes c the owner of name, failing the test if another has it.
func Own(t testing.TB, c *dbus.Conn, name string) {
	t.Helper()
	r, err := c.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s on the test bus: reply %v, %v", name, r, err)
	}
}
