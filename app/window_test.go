package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localapi"
)

func TestRevokeAsksFirstAndSaysWhatHappens(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, follow)
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
	if _, err := c.Connection(context.Background(), conn.ID); !errors.Is(err, localapi.ErrNotFound) {
		t.Fatalf("after Revoke the agent still has it: %v", err)
	}
	if len(u.win.cards) != 0 {
		t.Fatal("the card outlived the revoke")
	}
}

func TestRefreshAndRenameThroughTheCard(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, follow)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c)
	cd := u.win.cards[conn.ID]

	test.Tap(cd.refreshB)
	q.until(t, "a new generation", func() bool {
		got, _ := u.connection(conn.ID)
		return got.Generation > conn.Generation && got.State == localapi.StateConnected
	})

	cd.label.SetText("Trading desk")
	cd.onRename(cd.label.Text)
	q.until(t, "the new label", func() bool { got, _ := u.connection(conn.ID); return got.Label == "Trading desk" })
	if got, _ := c.Connection(context.Background(), conn.ID); got.Label != "Trading desk" {
		t.Fatalf("the agent has label %q", got.Label)
	}

	cd.label.SetText("two\nlines")
	cd.onRename(cd.label.Text)
	q.until(t, "the refusal", func() bool { return cd.errLine.Visible() })
	if cd.label.Text != "Trading desk" || !strings.Contains(cd.errLine.Text, "label") {
		t.Fatalf("a refused label: entry %q, error %q", cd.label.Text, cd.errLine.Text)
	}
	if got, _ := c.Connection(context.Background(), conn.ID); got.Label != "Trading desk" {
		t.Fatalf("a refused rename changed the agent's label to %q", got.Label)
	}
}

func TestSettings(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, follow)
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
		before := s.margin.Text
		s.margin.SetText("5s")
		test.Tap(s.saveM)
		q.until(t, "the refusal", func() bool { return s.status.Visible() && s.status.Text != "" })
		if !strings.Contains(s.status.Text, "between") {
			t.Fatalf("a bad margin says %q", s.status.Text)
		}
		if st, _ := c.Settings(context.Background()); st.RefreshMargin != before {
			t.Fatalf("a refused margin changed the agent's to %s", st.RefreshMargin)
		}
		s.margin.SetText("30m")
		test.Tap(s.saveM)
		q.until(t, "the save", func() bool { return strings.Contains(s.status.Text, "30m") })
		if st, _ := c.Settings(context.Background()); st.RefreshMargin != "30m0s" {
			t.Fatalf("the agent's margin is %s", st.RefreshMargin)
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
		if _, err := c.Token(context.Background(), conn.ID, 0); !errors.Is(err, localapi.ErrForbidden) {
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
	c, _ := startAgent(t, fakeexchange.AutoApprove, follow)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c)
	if _, err := c.Token(context.Background(), conn.ID, 0); err != nil {
		t.Fatal(err)
	}
	u.win.activity.reload()
	q.until(t, "the activity", func() bool { return len(u.win.activity.rows) > 0 })
	r := u.win.activity.rows[0]
	if r.PID != os.Getpid() || activityCell(r, 3) != conn.ID || activityCell(r, 1) != filepath.Base(r.Exe) {
		t.Fatalf("newest activity %+v; want this process reading %s", r, conn.ID)
	}
}

func TestTrayFollowsTheConnections(t *testing.T) {
	u, _ := newTestUI(t, nil)
	now := t0
	u.now = func() time.Time { return now }
	u.setConns(nil)
	if u.tray.icon != overallEmpty || u.tray.menu[0].Label != "Nothing connected" {
		t.Fatalf("empty: icon %v, menu %q", u.tray.icon, u.tray.menu[0].Label)
	}
	a := conn("a", localapi.StateConnected, 2*time.Hour+30*time.Minute+30*time.Second)
	u.apply(localapi.Event{Type: "connected", Connection: a})
	if u.tray.icon != overallOK || u.tray.menu[0].Label != "Ann's a — 2h 30m left" {
		t.Fatalf("connected: icon %v, menu %q", u.tray.icon, u.tray.menu[0].Label)
	}
	key := u.tray.menuKey
	now = now.Add(20 * time.Second)
	u.changed()
	if u.tray.menuKey != key {
		t.Fatal("the menu was rebuilt within the same minute")
	}
	a.State = localapi.StateNeedsReconnect
	u.apply(localapi.Event{Type: "state", Connection: a})
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
	a := conn("a", localapi.StateConnected, 2*time.Hour)
	want, _ := notification("", localapi.Event{Type: "connected", Connection: a}, t0)
	test.AssertNotificationSent(t, fyne.NewNotification(want.Title, want.Body), func() {
		u.apply(localapi.Event{Type: "connected", Connection: a})
	})
	a.State = localapi.StateNeedsReconnect
	want, _ = notification(localapi.StateConnected, localapi.Event{Type: "state", Connection: a}, t0)
	test.AssertNotificationSent(t, fyne.NewNotification(want.Title, want.Body), func() {
		u.apply(localapi.Event{Type: "state", Connection: a})
	})
}

func TestTheWindowSaysWhenTheAgentIsGone(t *testing.T) {
	u, q := newTestUI(t, localapi.NewClient(filepath.Join(t.TempDir(), "none.sock")))
	go u.follow(u.ctx)
	q.until(t, "the error line", func() bool { return u.win.agentErr.Visible() })
	if !strings.Contains(u.win.agentErr.Text, "not running") {
		t.Fatalf("agent error line %q", u.win.agentErr.Text)
	}
	if u.win.w.Title() != "tokentray" {
		t.Fatalf("window title %q", u.win.w.Title())
	}
}
