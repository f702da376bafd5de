package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoSessionBus runs the real OS keyring (go-keyring over D-Bus) in a child process
// whose session bus address leads nowhere: Open must fail with ErrNoSecretService, fast,
// and create no vault file. (A child, because godbus caches the session bus per process.)
func TestNoSessionBus(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=nobus", "VAULT_NOBUS_DIR="+dir,
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-such-bus"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := dirFiles(t, dir); len(got) != 1 || got[0] != lockFile {
		t.Errorf("folder after failed Open holds %v, want only the lock", got)
	}
}

// noBusChild opens a keyring vault with the real OS keyring and no reachable bus.
func noBusChild() int {
	start := time.Now()
	_, err := Open(context.Background(), Options{Dir: os.Getenv("VAULT_NOBUS_DIR"), KeyringTimeout: 5 * time.Second})
	if !errors.Is(err, ErrNoSecretService) {
		fmt.Printf("Open = %v, want ErrNoSecretService\n", err)
		return 1
	}
	if d := time.Since(start); d > 4*time.Second {
		fmt.Printf("Open took %v: it waited for a timeout instead of failing\n", d)
		return 1
	}
	return 0
}

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
	cmd.Env = append(cmd.Env, childEnv+"=nosessionbus", "VAULT_NOBUS_DIR="+dir, marker)
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

// noSessionBusChild opens a keyring vault with the real OS keyring and no
// session bus at all, and prints Open's error.
func noSessionBusChild() int {
	_, err := Open(context.Background(), Options{Dir: os.Getenv("VAULT_NOBUS_DIR"), KeyringTimeout: 5 * time.Second})
	fmt.Println(err)
	if !errors.Is(err, ErrNoSecretService) {
		return 1
	}
	return 0
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
