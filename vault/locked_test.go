package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

// TestSecretServiceLocked locks the real keyring's default collection and checks that
// Open fails with ErrKeyringLocked (gnome-keyring cannot show its prompt here, so the
// prompt is dismissed) or ErrKeyringTimeout, leaving the file alone. A locked collection
// cannot be unlocked again without its password, so this runs in a child process under
// its own scripts/with-secret-service session.
func TestSecretServiceLocked(t *testing.T) {
	requireSecretService(t)
	script, err := filepath.Abs("../scripts/with-secret-service")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, os.Args[0])
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TOKENTRAY_SECRET_SERVICE_INNER=") || strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=")
	})
	cmd.Env = append(cmd.Env, quickExit, childEnv+"=locked", "VAULT_LOCKED_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("locked: ok")) {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// lockedChild runs inside a private Secret Service: create a vault, lock the keyring, open.
func lockedChild() int {
	dir := os.Getenv("VAULT_LOCKED_DIR")
	fail := func(format string, args ...any) int {
		fmt.Printf("locked: "+format+"\n", args...)
		return 1
	}
	v, err := Open(context.Background(), Options{Dir: dir})
	if err != nil {
		return fail("create: %v", err)
	}
	v.Close()
	file, err := os.ReadFile(filepath.Join(dir, vaultFile))
	if err != nil {
		return fail("%v", err)
	}
	if err := lockDefaultCollection(); err != nil {
		return fail("lock: %v", err)
	}
	start := time.Now()
	_, err = Open(context.Background(), Options{Dir: dir, KeyringTimeout: 3 * time.Second})
	if !errors.Is(err, ErrKeyringLocked) && !errors.Is(err, ErrKeyringTimeout) {
		return fail("Open = %v, want ErrKeyringLocked or ErrKeyringTimeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		return fail("Open took %v", d)
	}
	if after, err := os.ReadFile(filepath.Join(dir, vaultFile)); err != nil || !bytes.Equal(after, file) {
		return fail("vault file changed after a locked keyring")
	}
	fmt.Printf("locked: ok (%v)\n", err)
	return 0
}

// lockDefaultCollection locks the Secret Service's default collection.
func lockDefaultCollection() error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return err
	}
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	var coll dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&coll); err != nil {
		return err
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{coll}).Store(&locked, &prompt); err != nil {
		return err
	}
	if len(locked) != 1 {
		return fmt.Errorf("locked %v", locked)
	}
	return nil
}
