package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
)

func TestRevokeAsksFirstAndSaysWhatHappens(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c)

	r := u.confirmRevoke(conn.ID)
	for _, want := range []string{"asks EXchange to revoke", conn.Label, "Scripts using them stop working", "removed here"} {
		if !strings.Contains(r.text.Text, want) {
			t.Fatalf("the confirmation does not say %q:\n%s", want, r.text.Text)
		}
	}
	test.Tap(r.cancel)
	q.settle()
	if _, err := c.Connection(context.Background(), conn.ID); err != nil {
		t.Fatalf("after Cancel the connection is gone: %v", err)
	}

	r = u.confirmRevoke(conn.ID)
	test.Tap(r.confirm)
	q.until(t, "the revoke", func() bool { _, ok := u.connection(conn.ID); return !ok })
	if _, err := c.Connection(context.Background(), conn.ID); !errors.Is(err, localclient.ErrNotFound) {
		t.Fatalf("after Revoke the agent still has it: %v", err)
	}
	if len(u.win.cards) != 0 {
		t.Fatal("the card outlived the revoke")
	}
}

func TestRefreshAndRenameThroughTheCard(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c)
	cd := u.win.cards[conn.ID]

	test.Tap(cd.refreshB)
	if cd.refreshB.Text != "Refreshing…" || !cd.refreshB.Disabled() {
		t.Fatalf("Refresh now in progress shows %q (disabled %v), want Refreshing… disabled", cd.refreshB.Text, cd.refreshB.Disabled())
	}
	q.until(t, "a new generation", func() bool {
		got, _ := u.connection(conn.ID)
		return got.Generation > conn.Generation && got.State == localclient.StateConnected
	})
	q.until(t, "the result", func() bool { return cd.refreshB.Text == "Refresh now" })
	if !strings.Contains(cd.state.Text, "refreshed just now") {
		t.Fatalf("after Refresh now the card says %q, want it to say the key was refreshed just now", cd.state.Text)
	}

	// An edit is not saved until Enter or Save, and says so.
	cd.label.SetText("")
	test.Type(cd.label, "Trading desk")
	if !cd.labelNote.Visible() || !strings.Contains(cd.labelNote.Text, "Not saved yet") || cd.saveLabel.Disabled() {
		t.Fatalf("a pending edit shows %q (visible %v), Save disabled %v", cd.labelNote.Text, cd.labelNote.Visible(), cd.saveLabel.Disabled())
	}
	cd.label.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	q.until(t, "the new label", func() bool { got, _ := u.connection(conn.ID); return got.Label == "Trading desk" })
	q.until(t, "Saved.", func() bool { return cd.labelNote.Text == "Saved." })
	if got, _ := c.Connection(context.Background(), conn.ID); got.Label != "Trading desk" {
		t.Fatalf("the agent has label %q", got.Label)
	}

	cd.label.SetText("two\nlines")
	test.Tap(cd.saveLabel)
	q.until(t, "the refusal", func() bool { return strings.HasPrefix(cd.labelNote.Text, "Not saved:") })
	if cd.label.Text != "Trading desk" || !strings.Contains(cd.labelNote.Text, "abel") {
		t.Fatalf("a refused label: entry %q, note %q", cd.label.Text, cd.labelNote.Text)
	}
	if got, _ := c.Connection(context.Background(), conn.ID); got.Label != "Trading desk" {
		t.Fatalf("a refused rename changed the agent's label to %q", got.Label)
	}
}

func TestSettings(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c)
	s := u.win.settings
	s.reload()
	q.until(t, "the settings", func() bool { return s.margin.Text != "" })
	if s.relay.Text != "http://127.0.0.1:8787" {
		t.Fatalf("relay shown %q", s.relay.Text)
	}

	t.Run("refresh margin", func(t *testing.T) {
		before, _ := c.Settings(context.Background())
		if s.margin.Text != marginText(before.RefreshMargin) || strings.ContainsAny(s.margin.Text, "0123456789") && strings.Contains(s.margin.Text, "m0s") {
			t.Fatalf("the margin shows %q, want %s in words", s.margin.Text, before.RefreshMargin)
		}
		for _, bad := range []string{"5s", "soon"} {
			s.status.SetText("")
			s.margin.SetText(bad)
			test.Tap(s.saveM)
			q.until(t, "the refusal", func() bool { return s.status.Visible() && s.status.Text != "" })
			if strings.Contains(s.status.Text, "Go duration") || !strings.HasSuffix(s.status.Text, ".") {
				t.Fatalf("a bad margin %q says %q", bad, s.status.Text)
			}
			if st, _ := c.Settings(context.Background()); st.RefreshMargin != before.RefreshMargin {
				t.Fatalf("a refused margin changed the agent's to %s", st.RefreshMargin)
			}
		}
		for _, good := range []string{"30m", "30 minutes"} {
			s.status.SetText("")
			s.margin.SetText(good)
			test.Tap(s.saveM)
			q.until(t, "the save", func() bool { return strings.HasPrefix(s.status.Text, "Saved") })
			if st, _ := c.Settings(context.Background()); st.RefreshMargin != "30m0s" || s.status.Text != "Saved: keys are now refreshed 30 minutes before they expire." {
				t.Fatalf("after %q the agent's margin is %s and the tab says %q", good, st.RefreshMargin, s.status.Text)
			}
		}
	})

	t.Run("raw keys", func(t *testing.T) {
		ch := s.raw[conn.ID]
		if ch == nil || !ch.Checked {
			t.Fatal("no ticked raw-keys box for the connection")
		}
		test.Tap(ch)
		q.until(t, "the patch", func() bool { got, _ := u.connection(conn.ID); return !got.RawKeys })
		if got, _ := c.Connection(context.Background(), conn.ID); got.RawKeys {
			t.Fatal("the agent still lets scripts read raw keys")
		}
		if _, err := c.Token(context.Background(), conn.ID, 0); !errors.Is(err, localclient.ErrForbidden) {
			t.Fatalf("Token with raw keys off = %v, want forbidden", err)
		}
	})

	t.Run("start at login", func(t *testing.T) {
		path := filepath.Join(u.opts.Getenv("XDG_CONFIG_HOME"), "autostart", "tokentray.desktop")
		test.Tap(s.autostart)
		q.until(t, "the agent's record", func() bool { return strings.Contains(s.status.Text, "will start") })
		if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), `Exec="/usr/bin/tokentray"`) {
			t.Fatalf("autostart entry: %q, %v", b, err)
		}
		if st, _ := c.Settings(context.Background()); !st.Autostart {
			t.Fatal("the agent did not record autostart")
		}
		test.Tap(s.autostart)
		q.until(t, "the agent's record", func() bool { return strings.Contains(s.status.Text, "will not start") })
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("the entry outlived unticking: %v", err)
		}
	})
}

func TestActivityShowsWhoUsedTheAgent(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c)
	if _, err := c.Token(context.Background(), conn.ID, 0); err != nil {
		t.Fatal(err)
	}
	u.win.show()
	u.win.activity.reload()
	a := u.win.activity
	q.until(t, "the token read", func() bool { return len(a.rows) > 0 && a.rows[0].Op == "token" })
	r := a.rows[0]
	if r.PID != os.Getpid() || a.cell(r, 3) != conn.Label || a.cell(r, 1) != filepath.Base(r.Exe) || a.cell(r, 4) != "token" {
		t.Fatalf("newest activity %+v shown as %q / %q; want this process reading %s by its label", r, a.cell(r, 3), a.cell(r, 4), conn.Label)
	}

	// Live: a signed order arrives as an event, without a reload, and says
	// what it was.
	before := len(a.all)
	if _, err := c.Sign(context.Background(), conn.ID, localclient.SignRequest{Method: "POST", Path: "/api/v2/orders", Params: map[string]string{"market": "btcusd"}}); err != nil {
		t.Fatal(err)
	}
	q.until(t, "the live sign", func() bool { return len(a.all) > before })
	if got := a.cell(a.rows[0], 4); got != "sign POST /api/v2/orders" {
		t.Fatalf("a signed order shows as %q, want %q", got, "sign POST /api/v2/orders")
	}
	// A proxied call shows the path as the exchange sees it.
	resp, err := c.Proxy(context.Background(), conn.ID, "GET", "members/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	q.until(t, "the live proxy", func() bool { return a.all[0].Op == "proxy" })
	if got := a.cell(a.rows[0], 4); got != "proxy GET /api/v2/members/me" {
		t.Fatalf("a proxied call shows as %q", got)
	}

	a.filter.SetText("post")
	if len(a.rows) != 1 || a.rows[0].Method != "POST" || !strings.Contains(a.note.Text, "1 of") {
		t.Fatalf("filter post: %d rows, note %q, all %+v", len(a.rows), a.note.Text, a.all)
	}
	a.filter.SetText("")
	if len(a.rows) != len(a.all) {
		t.Fatalf("an empty filter shows %d of %d", len(a.rows), len(a.all))
	}
}

func TestTrayFollowsTheConnections(t *testing.T) {
	u, _ := newTestUI(t, nil)
	now := t0
	u.now = func() time.Time { return now }
	// Before the agent answers, the tray already has its icon and a menu:
	// Fyne registers the item only if the menu is set before Run.
	if u.tray.icon != overallEmpty || u.tray.menu[0].Label != "Loading…" || u.tray.menu[len(u.tray.menu)-1].Action != actQuit {
		t.Fatalf("at start: icon %v, menu %+v; want the empty icon and Loading… … Quit", u.tray.icon, u.tray.menu)
	}
	u.loaded = true
	u.setConns(nil)
	if u.tray.icon != overallEmpty || u.tray.menu[0].Label != "Nothing connected" {
		t.Fatalf("empty: icon %v, menu %q", u.tray.icon, u.tray.menu[0].Label)
	}
	a := conn("a", localclient.StateConnected, 2*time.Hour+30*time.Minute+30*time.Second)
	u.apply(localclient.Event{Type: "connected", Connection: a})
	if u.tray.icon != overallOK || u.tray.menu[0].Label != "Ann's a — 2 h 30 min left" {
		t.Fatalf("connected: icon %v, menu %q", u.tray.icon, u.tray.menu[0].Label)
	}
	key := u.tray.menuKey
	now = now.Add(20 * time.Second)
	u.changed()
	if u.tray.menuKey != key {
		t.Fatal("the menu was rebuilt within the same minute")
	}
	a.State = localclient.StateNeedsReconnect
	u.apply(localclient.Event{Type: "state", Connection: a})
	if u.tray.icon != overallAttention || u.tray.menu[0].Children[0].Action != actReconnect {
		t.Fatalf("needs reconnect: icon %v, menu %+v", u.tray.icon, u.tray.menu[0])
	}
	items := u.tray.items(u.tray.menu)
	if last := items[len(items)-1]; last.Label != "Quit" || !last.IsQuit {
		t.Fatalf("the last item is %+v, want Quit", last)
	}
	quit := false
	u.quit = func() { quit = true }
	items[len(items)-1].Action()
	if !quit {
		t.Fatal("Quit did not quit")
	}
}

func TestNotificationsReachTheDesktop(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.now = func() time.Time { return t0 }
	a := conn("a", localclient.StateConnected, 2*time.Hour)
	want, _ := notification("", localclient.Event{Type: "connected", Connection: a}, t0)
	test.AssertNotificationSent(t, fyne.NewNotification(want.Title, want.Body), func() {
		u.apply(localclient.Event{Type: "connected", Connection: a})
	})
	a.State = localclient.StateNeedsReconnect
	want, _ = notification(localclient.StateConnected, localclient.Event{Type: "state", Connection: a}, t0)
	test.AssertNotificationSent(t, fyne.NewNotification(want.Title, want.Body), func() {
		u.apply(localclient.Event{Type: "state", Connection: a})
	})
}

func TestTheWindowSaysWhenTheAgentIsGone(t *testing.T) {
	u, q := newTestUI(t, localclient.NewClient(filepath.Join(t.TempDir(), "none.sock")))
	go u.follow(u.ctx)
	q.until(t, "the error line", func() bool { return u.win.agentErr.Visible() })
	if !strings.Contains(u.win.agentErr.Text, "not answering") || u.tray.menu[0].Label != "Cannot reach the tokentray agent; retrying" || u.tray.icon != overallAttention {
		t.Fatalf("agent error line %q", u.win.agentErr.Text)
	}
	if u.win.w.Title() != "tokentray" {
		t.Fatalf("window title %q", u.win.w.Title())
	}
}

// findButton finds the button labelled text in o's tree.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	if b, ok := o.(*widget.Button); ok && b.Text == text {
		return b
	}
	var kids []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		kids = x.Objects
	case fyne.Widget:
		kids = test.WidgetRenderer(x).Objects()
	}
	for _, k := range kids {
		if b := findButton(k, text); b != nil {
			return b
		}
	}
	return nil
}

func TestQuitWithAMemoryVaultAsksFirst(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.now = func() time.Time { return t0 }
	quits := 0
	u.quit = func() { quits++ }
	u.setConns([]localclient.Connection{conn("a", localclient.StateConnected, time.Hour)})

	u.askQuit()
	if quits != 1 {
		t.Fatalf("with a vault on disk Quit asked instead of quitting (%d quits)", quits)
	}

	u.opts.QuitForgets = true
	u.run(menuEntry{Action: actQuit})
	if quits != 1 {
		t.Fatal("with a memory-only vault Quit quit without asking")
	}
	top := u.win.w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog asks before forgetting the connections")
	}
	if findButton(top, "Keep running") == nil {
		t.Fatal("the dialog has no Keep running button")
	}
	test.Tap(findButton(top, "Quit and forget"))
	if quits != 2 {
		t.Fatal("confirming did not quit")
	}
}

func TestANotificationIsSentOncePerEvent(t *testing.T) {
	u, _ := newTestUI(t, nil)
	now := t0
	u.now = func() time.Time { return now }
	a := conn("a", localclient.StateConnected, 2*time.Hour)
	u.setConns([]localclient.Connection{a})
	n := note{"Refresh failed", "Ann's a: the key could not be refreshed."}
	test.AssertNotificationSent(t, fyne.NewNotification(n.Title, n.Body), func() { u.notify(a.ID, n) })
	// The same event again (the menu's own result, then the agent's state
	// event): nothing more reaches the desktop.
	test.AssertNotificationSent(t, nil, func() { u.notify(a.ID, n) })
	// The agent retrying the failing refresh: still nothing more.
	now = now.Add(time.Hour)
	test.AssertNotificationSent(t, nil, func() { u.notify(a.ID, n) })
	// A refresh succeeds; a new failure is a new event.
	u.apply(localclient.Event{Type: "refreshed", Connection: a})
	test.AssertNotificationSent(t, fyne.NewNotification(n.Title, n.Body), func() { u.notify(a.ID, n) })
}

func TestMakeDefaultThroughTheCard(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c)
	u.win.cards[conn.ID].onMakeDefault()
	q.until(t, "the default", func() bool { got, _ := u.connection(conn.ID); return got.Default })
	if got, err := c.Connection(context.Background(), conn.Provider); err != nil || got.ID != conn.ID || !got.Default {
		t.Fatalf("the agent's %s default = %+v, %v", conn.Provider, got, err)
	}
}

func TestAHiddenWindowKeepsNoWindow(t *testing.T) {
	u, _ := newTestUI(t, nil)
	timers := fakeTimers(u)
	u.now = func() time.Time { return t0 }
	u.setConns([]localclient.Connection{conn("a", localclient.StateConnected, time.Hour)})
	u.win.show()
	first := u.win.w
	u.win.onClose()
	if !u.win.closed || u.win.visible {
		t.Fatalf("closed with a tray: window closed %v, visible %v; want closed, not visible", u.win.closed, u.win.visible)
	}
	if slices.Contains(u.app.Driver().AllWindows(), first) {
		t.Fatal("the hidden window is still one of the app's windows")
	}
	released := false
	for _, tm := range timers.set {
		released = released || tm.d == releaseAfter
	}
	if !released {
		t.Fatal("closing the window does not release its memory")
	}
	u.win.show()
	if u.win.w == first || u.win.w.Content() != u.win.content || !slices.Contains(u.app.Driver().AllWindows(), u.win.w) {
		t.Fatal("showing again did not open a new window on the same widgets")
	}
	if c := u.win.cards["a"]; c == nil || u.win.list.Objects[0] != c.box {
		t.Fatal("the cards did not survive the close")
	}
}
