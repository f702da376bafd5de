//go:build linux

package polkit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/dbustest"
)

// TestRealPolkitd runs the system's polkitd on a private bus, with only
// deploy/polkit's policy in its actions folder (a bind mount in a mount
// namespace of its own: polkitd reads /usr/share/polkit-1/actions and
// nothing else). It shows that polkit accepts the shipped policy and the
// subject Confirm sends. It needs root (for the mount namespace; polkitd
// then drops to its own user), so it is skipped elsewhere, and root is
// authorized for everything: the refusals are TestConfirmRefusals'.
func TestRealPolkitd(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: polkitd's actions folder is replaced in a mount namespace")
	}
	var polkitd string
	for _, p := range []string{"/usr/lib/polkit-1/polkitd", "/usr/libexec/polkitd", "/usr/libexec/polkit-1/polkitd"} {
		if _, err := os.Stat(p); err == nil {
			polkitd = p
		}
	}
	if polkitd == "" {
		t.Skip("polkitd is not installed (apt-get install polkitd)")
	}
	if err := exec.Command("unshare", "--mount", "true").Run(); err != nil {
		t.Skipf("no mount namespace here: %v", err)
	}
	actions, err := os.MkdirTemp("", "polkit-actions")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(actions) })
	policy, err := os.ReadFile(filepath.Join("..", "..", "deploy", "polkit", PolicyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(actions, PolicyFile), policy, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(actions, 0o755); err != nil { // polkitd reads it as its own user
		t.Fatal(err)
	}

	addr := dbustest.StartShared(t)
	cmd := exec.Command("unshare", "--mount", "--", "sh", "-c",
		`mount --bind "$1" /usr/share/polkit-1/actions && exec "$2" --no-debug`, "sh", actions, polkitd)
	cmd.Env = append(os.Environ(), "DBUS_SYSTEM_BUS_ADDRESS="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := dbustest.Connect(t, addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var owned bool
		if err := c.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, busName).Store(&owned); err != nil {
			t.Fatal(err)
		}
		if owned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("polkitd did not take its name on the bus within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	a := testAuthority(addr, time.Minute)
	ctx := context.Background()
	if ok, why := a.Available(ctx); !ok {
		t.Fatalf("Available with the shipped policy = false, %q", why)
	}
	if err := a.Confirm(ctx, "python3 bot.py on EXchange"); err != nil {
		t.Fatalf("Confirm as root = %v, want polkit's yes", err)
	}
}
