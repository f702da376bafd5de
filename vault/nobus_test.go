package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestNoSessionBus runs the real OS keyring (go-keyring over D-Bus) in a child process
// whose session bus address leads nowhere: Open must fail with ErrNoSecretService, fast,
// and create no vault file. (A child, because godbus caches the session bus per process.)
func TestNoSessionBus(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), quickExit, childEnv+"=nobus", "VAULT_NOBUS_DIR="+dir,
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
