package agentd

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/vault"
)

// startOn starts an agent on the vault and config in home, as the tray app
// (tray) or `tokentray agent`. The vault is real: in the OS keyring under
// scripts/with-secret-service (TOKENTRAY_REQUIRE_KEYRING=1), else behind a
// passphrase, so the test runs everywhere.
func startOn(t *testing.T, home, socket string, tray bool) *Daemon {
	t.Helper()
	getenv := func(k string) string {
		if k == "TOKENTRAY_HOME" {
			return home
		}
		return ""
	}
	opts := Options{
		Getenv: getenv, Socket: socket, VaultDir: home, TrayApp: tray,
		Logger: slog.New(slog.DiscardHandler), Version: "test",
	}
	if os.Getenv("TOKENTRAY_REQUIRE_KEYRING") != "1" {
		mode := vault.ModePassphrase
		opts.VaultMode = &mode
		opts.Passphrase = func() ([]byte, error) { return []byte("approve-test passphrase"), nil }
	}
	d, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d
}

// patchApproveApps sends PATCH /v1/settings {"approve_apps": on} over the
// socket, as any program of the user's could, and returns the status.
func patchApproveApps(t *testing.T, socket string, on bool) int {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	defer hc.CloseIdleConnections()
	body := `{"approve_apps": false}`
	if on {
		body = `{"approve_apps": true}`
	}
	req, err := http.NewRequest(http.MethodPatch, "http://agent/v1/settings", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTrayAppApprovesAppsByDefault: the tray app's agent starts with
// approve_apps on although config.toml says false; no socket call turns it
// off (or on); the window's "off" is saved in the vault and holds at the
// next start of the tray app; a headless agent with approve_apps = false
// then stays off.
func TestTrayAppApprovesAppsByDefault(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte("approve_apps = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(t.TempDir(), "s", "agent.sock")
	ctx := context.Background()
	check := func(step string, d *Daemon, want bool) {
		t.Helper()
		st, err := localclient.NewClient(socket).Settings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ApproveApps != want || d.Approver().ApproveApps() != want {
			t.Fatalf("%s: approve_apps = %v on the socket, %v in the window; want %v", step, st.ApproveApps, d.Approver().ApproveApps(), want)
		}
	}

	d := startOn(t, home, socket, true)
	check("tray app, config false", d, true)
	if got := patchApproveApps(t, socket, false); got != http.StatusForbidden {
		t.Fatalf("PATCH approve_apps=false over the socket: status %d, want 403", got)
	}
	check("after the socket's PATCH", d, true)
	if err := d.Approver().SetApproveApps(false); err != nil {
		t.Fatal(err)
	}
	check("switched off in the window", d, false)
	d.Stop()

	d = startOn(t, home, socket, true)
	check("tray app after the window's off", d, false)
	if got := patchApproveApps(t, socket, true); got != http.StatusForbidden {
		t.Fatalf("PATCH approve_apps=true over the socket: status %d, want 403", got)
	}
	check("after the socket's PATCH on", d, false)
	d.Stop()

	d = startOn(t, home, socket, false)
	check("headless, window off, config false", d, false)
	d.Stop()
}

// TestHeadlessKeepsTheTraysApproval: once the tray app ran on a vault (its
// default, on, is saved), a headless agent with approve_apps = false keeps
// approval on: the file cannot turn off a saved "on".
func TestHeadlessKeepsTheTraysApproval(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(t.TempDir(), "s", "agent.sock")
	d := startOn(t, home, socket, false)
	if d.Agent.ApproveApps() {
		t.Fatal("headless, no config: approve_apps on, want off")
	}
	d.Stop()
	d = startOn(t, home, socket, true)
	if !d.Agent.ApproveApps() {
		t.Fatal("tray app: approve_apps off, want on")
	}
	d.Stop()
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte("approve_apps = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d = startOn(t, home, socket, false)
	if !d.Agent.ApproveApps() {
		t.Fatal("headless after the tray app, approve_apps = false: off, want on")
	}
}
