package app

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localapi"
)

var exchange = localapi.Provider{
	ID: "exchange", Name: "EXchange", DefaultLifetime: "4h0m0s",
	Scopes: []localapi.Scope{
		{Name: "profile", Description: "basic user information", Default: true, Required: true},
		{Name: "history", Description: "your orders and trades", Default: true},
		{Name: "trade", Description: "place and cancel orders"},
	},
}

// chipTexts lists a card's scope chips with their importance.
func chipTexts(c *card) []string {
	var out []string
	for _, o := range c.chips.Objects {
		l := o.(*widget.Label)
		out = append(out, l.Text+"/"+map[widget.Importance]string{
			widget.SuccessImportance: "granted", widget.WarningImportance: "warning", widget.LowImportance: "low",
		}[l.Importance])
	}
	return out
}

func TestCardStates(t *testing.T) {
	base := localapi.Connection{
		ID: "c1", Provider: "exchange", Label: "Ann's EXchange", Account: "ID123",
		Fields: map[string]string{"environment": "sandbox"}, ScopesRequested: []string{"profile", "trade"},
		ScopesGranted: []string{"profile"}, RawKeys: true,
	}
	tests := []struct {
		name          string
		state         string
		left          time.Duration
		wantBar       string
		wantValue     float64
		wantState     string
		wantReconnect bool
		wantRefresh   bool
	}{
		{"connected", localapi.StateConnected, 3*time.Hour + 12*time.Minute, "3h 12m left", 0.8, "Connected", false, true},
		{"refreshing", localapi.StateRefreshing, 5 * time.Minute, "5m left", 5.0 / 240, "Refreshing", false, false},
		{"expired", localapi.StateExpired, -time.Minute, "expired", 0, "expired", true, true},
		{"needs reconnect", localapi.StateNeedsReconnect, time.Hour, "1h 0m left", 0.25, "Needs reconnect", true, true},
		{"connecting", localapi.StateConnecting, 4 * time.Hour, "4h 0m left", 1, "Connecting", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := newTestUI(t, nil)
			u.now = func() time.Time { return t0 }
			u.providers = []localapi.Provider{exchange}
			conn := base
			conn.State, conn.ExpiresAt = tt.state, t0.Add(tt.left)
			u.setConns([]localapi.Connection{conn})
			c := u.win.cards["c1"]
			if c == nil || len(u.win.list.Objects) != 1 || u.win.list.Objects[0] != c.box {
				t.Fatalf("the window does not show one card for c1: %v", u.win.list.Objects)
			}
			if c.label.Text != "Ann's EXchange" {
				t.Errorf("label = %q", c.label.Text)
			}
			if want := "Account ID123 · EXchange · environment: sandbox"; c.about.Text != want {
				t.Errorf("about = %q, want %q", c.about.Text, want)
			}
			wantChips := []string{"✓ profile/granted", "history/low", "⚠ trade (not granted)/warning"}
			if got := chipTexts(c); !slices.Equal(got, wantChips) {
				t.Errorf("chips = %q, want %q", got, wantChips)
			}
			if got := c.bar.TextFormatter(); got != tt.wantBar || math.Abs(c.bar.Value-tt.wantValue) > 1.0/barSteps {
				t.Errorf("bar = %q at %v, want %q at %v", got, c.bar.Value, tt.wantBar, tt.wantValue)
			}
			if !strings.Contains(c.state.Text, tt.wantState) {
				t.Errorf("state text = %q, want it to say %q", c.state.Text, tt.wantState)
			}
			if c.reconnect.Visible() != tt.wantReconnect {
				t.Errorf("Reconnect shown = %v, want %v", c.reconnect.Visible(), tt.wantReconnect)
			}
			if c.refreshB.Disabled() == tt.wantRefresh {
				t.Errorf("Refresh enabled = %v, want %v", !c.refreshB.Disabled(), tt.wantRefresh)
			}
		})
	}
}

func TestCardsFollowTheList(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.now = func() time.Time { return t0 }
	a, b := conn("a", localapi.StateConnected, time.Hour), conn("b", localapi.StateConnected, time.Hour)
	u.setConns([]localapi.Connection{a, b})
	cardA := u.win.cards["a"]
	u.apply(localapi.Event{Type: "revoked", Connection: b})
	if len(u.win.list.Objects) != 1 || u.win.list.Objects[0] != cardA.box || u.win.cards["b"] != nil {
		t.Fatalf("after revoking b the window shows %d objects, cards %v", len(u.win.list.Objects), u.win.cards)
	}
	a.Label = "Renamed"
	u.apply(localapi.Event{Type: "state", Connection: a})
	if u.win.cards["a"] != cardA || cardA.label.Text != "Renamed" {
		t.Fatalf("an update made a new card or missed the label: %q", cardA.label.Text)
	}
	u.apply(localapi.Event{Type: "revoked", Connection: a})
	if len(u.win.list.Objects) != 1 || u.win.list.Objects[0] != u.win.empty {
		t.Fatalf("with nothing connected the window shows %v, want the empty note", u.win.list.Objects)
	}
}

func TestCountdownTicksOnlyWhileTheWindowShows(t *testing.T) {
	u, q := newTestUI(t, nil)
	now := t0
	u.now = func() time.Time { return now }
	u.setConns([]localapi.Connection{conn("a", localapi.StateConnected, 2*time.Minute)})
	c := u.win.cards["a"]
	u.win.show()
	now = now.Add(61 * time.Second)
	q.until(t, "a tick", func() bool { return c.bar.TextFormatter() == "59s left" })
	u.win.hide()
	if u.win.stopTick != nil {
		t.Fatal("the ticker outlived hide")
	}
	now = now.Add(30 * time.Second)
	q.settle()
	time.Sleep(1200 * time.Millisecond)
	q.settle()
	if got := c.bar.TextFormatter(); got != "59s left" {
		t.Fatalf("while hidden the countdown moved to %q", got)
	}
	if n := len(q); n != 0 {
		t.Fatalf("%d ticks queued while hidden", n)
	}
	u.win.show()
	if got := c.bar.TextFormatter(); got != "29s left" {
		t.Fatalf("showing again: countdown %q, want it up to date at once", got)
	}
}

func TestClosingTheWindow(t *testing.T) {
	t.Run("with a tray it hides", func(t *testing.T) {
		u, _ := newTestUI(t, nil)
		quit := false
		u.quit = func() { quit = true }
		u.win.show()
		u.win.onClose()
		if u.win.visible || quit {
			t.Fatalf("closing with a tray: visible %v, quit %v; want hidden, running", u.win.visible, quit)
		}
	})
	t.Run("without a tray it quits", func(t *testing.T) {
		u, _ := newTestUI(t, nil)
		u.tray = nil
		quit := false
		u.quit = func() { quit = true }
		u.win.show()
		u.win.onClose()
		if !quit {
			t.Fatal("closing the window without a tray left the app running, out of reach")
		}
	})
}
