package vault

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestNoSessionBusStartsNothing opens a keyring vault in a child process with
// no DBUS_SESSION_BUS_ADDRESS and no per-user bus: Open must say there is no
// session D-Bus, and no dbus-daemon or gnome-keyring-daemon may appear (godbus
// would autolaunch one with dbus-launch, which then activates the keyring).
// Processes are told apart by a marker in their environment, which daemons
// the child starts inherit, so other tests' buses on the machine do not count.
func TestNoSessionBusStartsNothing(t *testing.T) {
	if _, err := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")); err == nil {
		t.Skip("this machine has a per-user session bus: there is nothing to autolaunch")
	}
	if _, err := exec.LookPath("dbus-launch"); err != nil {
		t.Skip("no dbus-launch: godbus could not autolaunch a bus here anyway")
	}
	dir := t.TempDir()
	marker := "TOKENTRAY_NOBUS_MARKER=" + filepath.Base(dir)
	cmd := exec.Command(os.Args[0])
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, quickExit, childEnv+"=nosessionbus", "VAULT_NOBUS_DIR="+dir, marker)
	out, err := cmd.CombinedOutput()
	if started := markedDaemons(marker); len(started) > 0 {
		for _, pid := range started {
			syscall.Kill(pid, syscall.SIGTERM) // the daemons this test started
		}
		t.Errorf("opening the vault without a session bus started %d D-Bus or keyring daemons (pids %v)", len(started), started)
	}
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if want := "no session D-Bus, so no Secret Service"; !strings.Contains(string(out), want) {
		t.Errorf("Open said %q, want it to say %q", out, want)
	}
}

// markedDaemons returns the pids of dbus-daemon and gnome-keyring-daemon
// processes whose environment holds marker.
func markedDaemons(marker string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil {
			continue
		}
		name := strings.TrimSpace(string(comm))
		if name != "dbus-daemon" && !strings.HasPrefix(name, "gnome-keyring") && name != "dbus-launch" {
			continue
		}
		env, err := os.ReadFile(filepath.Join(p, "environ"))
		if err != nil || !bytes.Contains(env, []byte(marker+"\x00")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(p)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
