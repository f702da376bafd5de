package app

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localclient"
)

var exchange = localclient.Provider{
	ID: "exchange", Name: "EXchange", DefaultLifetime: "4h0m0s",
	Scopes: []localclient.Scope{
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
	base := localclient.Connection{
		ID: "c1", Provider: "exchange", Label: "Ann's EXchange", Account: "ID123",
		Fields: map[string]string{"environment": "sandbox"}, ScopesRequested: []string{"profile", "trade"},
		ScopesGranted: []string{"profile"}, RawKeys: true,
	}
	until := func(d time.Duration) string { return t0.Add(d).Local().Format("15:04") }
	tests := []struct {
		name          string
		state         string
		left          time.Duration
		wantBar       string // "" when the bar is hidden
		wantValue     float64
		wantState     string
		wantReconnect bool
		wantRefresh   bool
	}{
		{"connected", localclient.StateConnected, 3*time.Hour + 12*time.Minute, "until " + until(3*time.Hour+12*time.Minute) + ", 3 h 12 min left", 0.8,
			"Connected, refreshed 48 min ago", false, true},
		{"refreshing", localclient.StateRefreshing, 5 * time.Minute, "until " + until(5*time.Minute) + ", 5 min left", 5.0 / 240, "Refreshing", false, false},
		{"expired", localclient.StateExpired, -time.Minute, "", 0, "expired", true, true},
		{"needs reconnect", localclient.StateNeedsReconnect, time.Hour, "", 0.25, "Needs reconnect", true, true},
		{"connecting", localclient.StateConnecting, 4 * time.Hour, "until " + until(4*time.Hour) + ", 4 h 0 min left", 1, "Connecting", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := newTestUI(t, nil)
			u.now = func() time.Time { return t0.Local() }
			u.providers = []localclient.Provider{exchange}
			conn := base
			conn.State, conn.ExpiresAt = tt.state, t0.Add(tt.left)
			u.setConns([]localclient.Connection{conn})
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
			if !strings.Contains(c.id.Text, "c1") {
				t.Errorf("the card shows no id: %q", c.id.Text)
			}
			test.Tap(c.copyID)
			if got := u.app.Clipboard().Content(); got != "c1" || c.copyID.Text != "Copied" {
				t.Errorf("Copy id put %q on the clipboard, button %q", got, c.copyID.Text)
			}
			wantChips := []string{"✓ profile/granted", "history/low", "⚠ trade (not granted)/warning"}
			if got := chipTexts(c); !slices.Equal(got, wantChips) {
				t.Errorf("chips = %q, want %q", got, wantChips)
			}
			if tt.wantBar == "" {
				if c.bar.Visible() {
					t.Errorf("bar shown (%q) for a connection that has no running key", c.bar.TextFormatter())
				}
			} else if got := c.bar.TextFormatter(); !c.bar.Visible() || got != tt.wantBar || math.Abs(c.bar.Value-tt.wantValue) > 1.0/barSteps {
				t.Errorf("bar = %q at %v (shown %v), want %q at %v", got, c.bar.Value, c.bar.Visible(), tt.wantBar, tt.wantValue)
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

func TestCardStatusLineClearsOnSuccess(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.now = func() time.Time { return t0 }
	u.providers = []localclient.Provider{exchange}
	conn := conn("a", localclient.StateConnected, 3*time.Hour)
	conn.Provider = "exchange"
	u.setConns([]localclient.Connection{conn})
	c := u.win.cards["a"]
	c.fail(&localclient.Error{Code: localclient.CodeProviderError, Message: "refresh: oauthflow: refresh exchange: provider error invalid_grant: The provided authorization grant is invalid."})
	want := "Connected, but the last action failed. EXchange refused: The provided authorization grant is invalid."
	if c.state.Text != want {
		t.Fatalf("after a failed refresh the card says %q, want %q", c.state.Text, want)
	}
	u.setConns([]localclient.Connection{conn}) // the same key again: the error stays
	if c.state.Text != want {
		t.Fatalf("an update with the same key cleared the error: %q", c.state.Text)
	}
	conn.Generation++
	u.apply(localclient.Event{Type: "refreshed", Connection: conn})
	if strings.Contains(c.state.Text, "failed") || !strings.HasPrefix(c.state.Text, "Connected, refreshed") {
		t.Fatalf("after a successful refresh the card says %q", c.state.Text)
	}
}

func TestCardsGreyWhileTheAgentIsGone(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.now = func() time.Time { return t0 }
	u.setConns([]localclient.Connection{conn("a", localclient.StateConnected, time.Hour), conn("b", localclient.StateNeedsReconnect, 0)})
	u.setAgentErr(localclient.ErrAgentNotRunning)
	if !u.win.agentErr.Visible() || strings.Contains(u.win.agentErr.Text, "tokentray agent is not running (") {
		t.Fatalf("banner %q (shown %v), want one sentence", u.win.agentErr.Text, u.win.agentErr.Visible())
	}
	for id, c := range u.win.cards {
		if !c.refreshB.Disabled() || !c.revoke.Disabled() || !c.label.Disabled() || c.reconnect.Visible() || c.bar.Visible() {
			t.Errorf("card %s is not greyed while the agent is gone", id)
		}
		if !strings.HasPrefix(c.state.Text, "Unknown while") || strings.Contains(c.state.Text, "Connected") {
			t.Errorf("card %s says %q while the agent is gone", id, c.state.Text)
		}
	}
	u.setAgentErr(nil)
	if u.win.agentErr.Visible() || u.win.cards["a"].refreshB.Disabled() || !strings.HasPrefix(u.win.cards["a"].state.Text, "Connected") {
		t.Fatalf("the agent is back: banner %v, card a %q", u.win.agentErr.Visible(), u.win.cards["a"].state.Text)
	}
}

func TestCardsFollowTheList(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.now = func() time.Time { return t0 }
	a, b := conn("a", localclient.StateConnected, time.Hour), conn("b", localclient.StateConnected, time.Hour)
	u.setConns([]localclient.Connection{a, b})
	cardA := u.win.cards["a"]
	u.apply(localclient.Event{Type: "revoked", Connection: b})
	if len(u.win.list.Objects) != 1 || u.win.list.Objects[0] != cardA.box || u.win.cards["b"] != nil {
		t.Fatalf("after revoking b the window shows %d objects, cards %v", len(u.win.list.Objects), u.win.cards)
	}
	a.Label = "Renamed"
	u.apply(localclient.Event{Type: "state", Connection: a})
	if u.win.cards["a"] != cardA || cardA.label.Text != "Renamed" {
		t.Fatalf("an update made a new card or missed the label: %q", cardA.label.Text)
	}
	u.apply(localclient.Event{Type: "revoked", Connection: a})
	if len(u.win.list.Objects) != 1 || u.win.list.Objects[0] != u.win.empty {
		t.Fatalf("with nothing connected the window shows %v, want the empty note", u.win.list.Objects)
	}
}

func TestCountdownTicksOnlyWhileTheWindowShows(t *testing.T) {
	u, q := newTestUI(t, nil)
	now := t0
	u.now = func() time.Time { return now }
	timers := fakeTimers(u)
	u.setConns([]localclient.Connection{conn("a", localclient.StateConnected, 2*time.Minute)})
	c := u.win.cards["a"]
	if n := timers.pending(); n != 0 {
		t.Fatalf("%d countdown timers set before the window shows", n)
	}
	u.win.show()
	if d := timers.next(t); d > time.Minute+time.Second {
		t.Fatalf("the countdown timer waits %v, want at most a minute", d)
	}
	now = now.Add(61 * time.Second)
	timers.fire(t)
	q.until(t, "a tick", func() bool { return strings.HasSuffix(c.bar.TextFormatter(), ", 59 s left") })
	if d := timers.next(t); d > time.Second+100*time.Millisecond {
		t.Fatalf("in the key's last minute the timer waits %v, want about a second", d)
	}
	u.win.hide()
	if n := timers.pending(); n != 0 {
		t.Fatalf("%d countdown timers outlived hide", n)
	}
	now = now.Add(30 * time.Second)
	q.settle()
	if got := c.bar.TextFormatter(); !strings.HasSuffix(got, ", 59 s left") {
		t.Fatalf("while hidden the countdown moved to %q", got)
	}
	u.win.show()
	if got := c.bar.TextFormatter(); !strings.HasSuffix(got, ", 29 s left") {
		t.Fatalf("showing again: countdown %q, want it up to date at once", got)
	}
	if n := timers.pending(); n != 1 {
		t.Fatalf("%d countdown timers after showing again, want 1", n)
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

func TestCardsSayWhichConnectionIsTheDefault(t *testing.T) {
	u, _ := newTestUI(t, nil)
	u.now = func() time.Time { return t0 }
	a, b := conn("a", localclient.StateConnected, time.Hour), conn("b", localclient.StateConnected, time.Hour)
	a.Provider, b.Provider = "exchange", "exchange"
	u.setConns([]localclient.Connection{a})
	if ca := u.win.cards["a"]; ca.isDefault.Visible() || ca.makeDef.Visible() {
		t.Fatal("a provider's only connection talks about being the default")
	}
	// A second account and no default yet: scripts naming the provider
	// fail, and both cards say so beside their Make default.
	u.setConns([]localclient.Connection{a, b})
	for _, id := range []string{"a", "b"} {
		c := u.win.cards[id]
		if !c.isDefault.Visible() || !c.makeDef.Visible() || c.isDefault.Importance != widget.WarningImportance ||
			!strings.Contains(c.isDefault.Text, "scripts that name exchange fail until you pick one") {
			t.Fatalf("card %s with no default: marker %q shown %v, Make default shown %v", id, c.isDefault.Text, c.isDefault.Visible(), c.makeDef.Visible())
		}
	}
	b.Default = true
	u.setConns([]localclient.Connection{a, b})
	ca, cb := u.win.cards["a"], u.win.cards["b"]
	if !ca.makeDef.Visible() || ca.isDefault.Visible() || ca.makeDef.Text != "Make default for exchange" {
		t.Fatalf("card a: Make default shown %v (%q), marker shown %v", ca.makeDef.Visible(), ca.makeDef.Text, ca.isDefault.Visible())
	}
	if !cb.isDefault.Visible() || cb.makeDef.Visible() || cb.isDefault.Importance != widget.SuccessImportance ||
		!strings.Contains(cb.isDefault.Text, "scripts that name exchange get this one") {
		t.Fatalf("card b: marker %q shown %v, Make default shown %v", cb.isDefault.Text, cb.isDefault.Visible(), cb.makeDef.Visible())
	}
}
