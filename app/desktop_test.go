package app

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentray/tokentray/app/internal/desktoptest"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
	"github.com/tokentray/tokentray/localclient"
)

// buildTrayApp builds the real tokentray-app (the module's root package)
// into the test's directory.
func buildTrayApp(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: no go command to build tokentray-app with")
	}
	bin := filepath.Join(t.TempDir(), "tokentray-app")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/tokentray/tokentray")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tokentray-app: %v\n%s", err, out)
	}
	return bin
}

// TestDesktopNotificationsOncePerEvent runs the real tray app, with Fyne's
// real driver, on a private X server and session bus, attached to a real
// agent, and reads what reaches the notification service: each event is
// told once — connected, refresh failed (not again when the agent's retry
// fails too), needs reconnect, connected again, revoked.
func TestDesktopNotificationsOncePerEvent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("skipped: desktop notifications through D-Bus are Linux's")
	}
	if testing.Short() {
		t.Skip("skipped in -short: builds and runs the tray app")
	}
	bus := desktoptest.SessionBus(t)
	display := desktoptest.Xvfb(t)
	notes := desktoptest.StartNotifications(t, bus)
	c, stack, socket := startAgentSocket(t, fakeexchange.AutoApprove, devstack.Browser)
	bin := buildTrayApp(t)

	home := t.TempDir()
	run := filepath.Join(home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	app := exec.Command(bin)
	app.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_RUNTIME_DIR=" + run,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"DISPLAY=" + display, "DBUS_SESSION_BUS_ADDRESS=" + bus, "TOKENTRAY_SOCK=" + socket,
	}
	var log syncbuf.Buffer
	app.Stdout, app.Stderr = &log, &log
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- app.Wait() }()
	t.Cleanup(func() {
		app.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			app.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("tokentray-app's log:\n%s", log.String())
		}
	})
	deadline := time.After(60 * time.Second)
	for !strings.Contains(log.String(), "following the agent's events") {
		select {
		case err := <-exited:
			t.Fatalf("tokentray-app exited: %v\n%s", err, log.String())
		case <-deadline:
			t.Fatalf("tokentray-app did not follow the agent's events within 60 s\n%s", log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}

	// The test follows the agent's events too, to know when the agent
	// retried a failing refresh.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events := make(chan localclient.Event, 100)
	go c.Events(ctx, func(ev localclient.Event) { events <- ev })
	summaries := func(got []desktoptest.Notification) []string {
		var s []string
		for _, n := range got {
			s = append(s, n.Summary)
		}
		return s
	}
	want := []string{}
	expect := func(summary string) {
		t.Helper()
		want = append(want, summary)
		got := notes.WaitFor(t, summary, 60*time.Second, func(got []desktoptest.Notification) bool { return len(got) >= len(want) })
		if s := summaries(got); !slices.Equal(s, want) {
			t.Fatalf("notifications %q, want %q: %v", s, want, got)
		}
	}

	connect := func() localclient.Connection {
		t.Helper()
		conn, err := c.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID, Scopes: []string{"profile"}}, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		return *conn
	}
	conn := connect()
	expect("Connected")
	if got := notes.All()[0]; !strings.Contains(got.Body, conn.Label) || got.App == "" {
		t.Fatalf("the notification %v does not name %q or comes from no app (%q)", got, conn.Label, got.App)
	}

	// Refresh failed: the relay is down, so the refresh surely does not
	// reach the exchange. A keep-alive connection that the relay's shutdown
	// cut would answer EOF instead, and then the refresh may have reached
	// it: the agent rightly keeps such a connection refreshing. So first a
	// throwaway call through the relay (a connect) uses up such connections,
	// until the relay is refused.
	stack.SetRelayDown(true)
	for try := 1; ; try++ {
		_, err := c.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID, Scopes: []string{"profile"}}, nil)
		if err != nil && strings.Contains(err.Error(), "connection refused") {
			break
		}
		if try == 5 {
			t.Fatalf("a connect with the relay down: %v, want connection refused", err)
		}
	}
	if _, err := c.Refresh(ctx, conn.ID, nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("a refresh with the relay down: %v, want connection refused", err)
	}
	expect("Refresh failed")
	// Both attempts' events are in the stream: the test subscribed before
	// the first.
	for attempts := 0; attempts < 2; {
		select {
		case ev := <-events:
			if ev.Type == "state" && ev.Connection.ID == conn.ID && ev.Connection.State == localclient.StateRefreshing {
				attempts++
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the agent did not retry the refresh within 60 s")
		}
	}
	// The retry has started; its end is an event too. Then the relay comes
	// back and a refresh succeeds.
	waitEvent(t, events, func(ev localclient.Event) bool {
		return ev.Connection.ID == conn.ID && ev.Connection.State != localclient.StateRefreshing
	})
	stack.SetRelayDown(false)
	if _, err := c.Refresh(ctx, conn.ID, nil); err != nil {
		t.Fatalf("refresh with the relay back: %v", err)
	}

	// Needs reconnect: the grant is revoked at the exchange behind the
	// agent's back.
	tok, err := c.Token(ctx, conn.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	key := tok.AccessKey + ":" + tok.SecretKey
	req, _ := http.NewRequest("POST", stack.ExchangeURL+"/oauth/revoke", strings.NewReader(url.Values{"token": {key}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke the grant at the exchange: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := c.Refresh(ctx, conn.ID, nil); err == nil {
		t.Fatal("a refresh of a revoked grant succeeded")
	}
	expect("Needs reconnect")

	// Connecting again is a new event, and so is the revocation.
	connect()
	expect("Connected")
	if _, err := c.Revoke(ctx, conn.ID); err != nil {
		t.Fatal(err)
	}
	expect("Revoked")
}

// waitEvent reads events until ok holds for one, for up to 60 s.
func waitEvent(t *testing.T, events <-chan localclient.Event, ok func(localclient.Event) bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case ev := <-events:
			if ok(ev) {
				return
			}
		case <-deadline:
			t.Fatal("no such event within 60 s")
		}
	}
}
