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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokentray/tokentray/app/internal/desktoptest"
	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
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

// startTrayApp starts the tray app bin with env, its output appended to
// log, and returns once it follows the agent's events (within 60 s). stop
// ends it, SIGTERM then a kill after 10 s; it also runs at the test's end,
// and does nothing the second time.
func startTrayApp(t *testing.T, bin string, env []string, log *syncbuf.Buffer) (stop func()) {
	t.Helper()
	mark := len(log.String())
	app := exec.Command(bin)
	app.Env = env
	app.Stdout, app.Stderr = log, log
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once waitErr is set
	var waitErr error
	go func() {
		waitErr = app.Wait()
		close(exited)
	}()
	stop = sync.OnceFunc(func() {
		app.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			app.Process.Kill()
			<-exited
		}
	})
	t.Cleanup(stop)
	deadline := time.After(60 * time.Second)
	for !strings.Contains(log.String()[mark:], "following the agent's events") {
		select {
		case <-exited:
			t.Fatalf("tokentray-app exited: %v\n%s", waitErr, log.String())
		case <-deadline:
			t.Fatalf("tokentray-app did not follow the agent's events within 60 s\n%s", log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return stop
}

// runTrayApp runs the real tray app, built from this tree, with Fyne's real
// driver on a private X server and session bus, attached to the agent on
// socket, until the test ends; it returns once the app follows the agent's
// events, with what reaches the bus's notification service.
func runTrayApp(t *testing.T, socket string) *desktoptest.Notifications {
	t.Helper()
	s := desktoptest.Start(t)
	notes := desktoptest.StartNotifications(t, s.Bus)
	bin := buildTrayApp(t)

	env := append(s.Env, "TOKENTRAY_SOCK="+socket)
	var log syncbuf.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tokentray-app's log:\n%s", log.String())
		}
	})
	startTrayApp(t, bin, env, &log)
	return notes
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
	c, stack, socket := startAgentSocket(t, fakeexchange.AutoApprove, devstack.Browser)
	notes := runTrayApp(t, socket)

	// The test follows the agent's events too, to know when the agent
	// retried a failing refresh.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events := make(chan localclient.Event, 100)
	go c.Events(ctx, func(ev localclient.Event) { events <- ev })
	seen := &noteLog{notes: notes}
	expect := func(summary string) {
		t.Helper()
		seen.expect(t, summary)
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

// noteLog reads the notifications in order: each expect waits for one more
// and fails unless those so far are exactly the ones expected, so a
// notification that should not have come shows up at the next expect.
type noteLog struct {
	notes *desktoptest.Notifications
	want  []string
}

// expect waits up to 60 s for the notification summary, and returns it.
func (l *noteLog) expect(t *testing.T, summary string) desktoptest.Notification {
	t.Helper()
	l.want = append(l.want, summary)
	got := l.notes.WaitFor(t, summary, 60*time.Second, func(got []desktoptest.Notification) bool { return len(got) >= len(l.want) })
	var s []string
	for _, n := range got {
		s = append(s, n.Summary)
	}
	if !slices.Equal(s, l.want) {
		t.Fatalf("notifications %q, want %q: %v", s, l.want, got)
	}
	return got[len(got)-1]
}

// TestDesktopNewAppOnATradingConnection runs the real tray app attached to
// a real agent, as above, and reads what reaches the notification service
// when apps are granted connections: a grant on a connection that cannot
// trade and a plain use of a grant (curl, through the socket) stay quiet;
// the first grant of an app on a trading connection is told once, naming
// the app and the connection; the same app granted again is not told again.
func TestDesktopNewAppOnATradingConnection(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("skipped: desktop notifications through D-Bus and app identification are Linux's")
	}
	if testing.Short() {
		t.Skip("skipped in -short: builds and runs the tray app")
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("skipped: no curl to use a grant with")
	}
	w := startWorld(t)
	notes := runTrayApp(t, w.Socket)
	seen := &noteLog{notes: notes}
	ctx := context.Background()
	agent := w.Agent.Agent
	ids := appid.New(appid.Config{})
	identify := func(path string) appid.App {
		t.Helper()
		app, err := ids.IdentifyFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	grant := func(app appid.App, conn string) {
		t.Helper()
		if _, err := agent.GrantApp(app, conn, approval.Always); err != nil {
			t.Fatalf("grant %s: %v", app.Name, err)
		}
	}
	connect := func(scopes ...string) localclient.Connection {
		t.Helper()
		conn, err := w.Client.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID, Scopes: scopes}, nil)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		seen.expect(t, "Connected")
		return *conn
	}

	// A connection that cannot trade: a grant there is no news.
	conn := connect("profile")
	curlApp := identify(curl)
	grant(curlApp, conn.ID)

	// The same account connected again with trade (the agent updates the
	// connection); curl, granted before, uses it.
	conn = connect("profile", "trade")
	if !slices.Contains(conn.ScopesGranted, "trade") {
		t.Fatalf("the connection was granted %v, want trade among them", conn.ScopesGranted)
	}
	if err := agent.SetApproveApps(true); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(curl, "-sS", "--unix-socket", w.Socket, "-o", os.DevNull, "-w", "%{http_code}",
		"http://tokentray/v1/connections/"+conn.ID+"/token").CombinedOutput()
	if err != nil || string(out) != "200" {
		t.Fatalf("curl with its grant: %v, HTTP %s", err, out)
	}

	// A new app on the trading connection is told, once.
	script := func(name string) appid.App {
		t.Helper()
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\necho hello\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		return identify(path)
	}
	bot := script("bot.sh")
	grant(bot, conn.ID)
	n := seen.expect(t, "New app can place orders")
	if !strings.Contains(n.Body, bot.Name) || !strings.Contains(n.Body, conn.Label) {
		t.Fatalf("the notification %v does not name the app %q and the connection %q", n, bot.Name, conn.Label)
	}
	grant(bot, conn.ID)
	other := script("other.sh")
	grant(other, conn.ID)
	if n := seen.expect(t, "New app can place orders"); !strings.Contains(n.Body, other.Name) {
		t.Fatalf("the notification %v does not name %q", n, other.Name)
	}
}
