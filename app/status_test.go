package app

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/humantime"
	"github.com/tokentray/tokentray/localclient"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRemaining(t *testing.T) {
	tests := []struct {
		name     string
		left     time.Duration
		lifetime time.Duration
		want     float64
	}{
		{"half", 2 * time.Hour, 4 * time.Hour, 0.5},
		{"longer than the lifetime", 5 * time.Hour, 4 * time.Hour, 1},
		{"expired", -time.Minute, 4 * time.Hour, 0},
		{"no lifetime", time.Hour, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := remaining(t0, t0.Add(tt.left), tt.lifetime); got != tt.want {
				t.Fatalf("remaining(%v of %v) = %v, want %v", tt.left, tt.lifetime, got, tt.want)
			}
		})
	}
}

func TestLifetimeOf(t *testing.T) {
	tests := []struct {
		name string
		p    *localclient.Provider
		want time.Duration
	}{
		{"given", &localclient.Provider{DefaultLifetime: "1h30m0s"}, 90 * time.Minute},
		{"unreadable", &localclient.Provider{DefaultLifetime: "soon"}, defaultLifetime},
		{"no provider", nil, defaultLifetime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lifetimeOf(tt.p); got != tt.want {
				t.Fatalf("lifetimeOf(%+v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestScopeChips(t *testing.T) {
	offered := []localclient.Scope{{Name: "profile"}, {Name: "history"}, {Name: "trade"}}
	tests := []struct {
		name               string
		requested, granted []string
		want               []chip
	}{
		{"all granted", []string{"profile", "history"}, []string{"profile", "history"},
			[]chip{{"profile", chipGranted}, {"history", chipGranted}, {"trade", chipNotRequested}}},
		{"one refused", []string{"profile", "trade"}, []string{"profile"},
			[]chip{{"profile", chipGranted}, {"history", chipNotRequested}, {"trade", chipNotGranted}}},
		{"granted unasked", []string{"profile"}, []string{"profile", "history"},
			[]chip{{"profile", chipGranted}, {"history", chipGranted}, {"trade", chipNotRequested}}},
		{"unknown to the provider", []string{"profile", "admin"}, []string{"profile"},
			[]chip{{"profile", chipGranted}, {"history", chipNotRequested}, {"trade", chipNotRequested}, {"admin", chipNotGranted}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scopeChips(offered, tt.requested, tt.granted); !slices.Equal(got, tt.want) {
				t.Fatalf("scopeChips(%v, %v) = %v, want %v", tt.requested, tt.granted, got, tt.want)
			}
		})
	}
}

func TestChipText(t *testing.T) {
	tests := []struct {
		c    chip
		want string
	}{
		{chip{"trade", chipGranted}, "✓ trade"},
		{chip{"trade", chipNotGranted}, "⚠ trade (not granted)"},
		{chip{"trade", chipNotRequested}, "trade"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.c.Text(); got != tt.want {
				t.Fatalf("%+v.Text() = %q, want %q", tt.c, got, tt.want)
			}
		})
	}
}

func conn(id, state string, left time.Duration) localclient.Connection {
	return localclient.Connection{ID: id, Provider: "exchange", Label: "Ann's " + id, State: state, ExpiresAt: t0.Add(left)}
}

func TestOverallOf(t *testing.T) {
	ok := conn("a", localclient.StateConnected, 3*time.Hour)
	tests := []struct {
		name  string
		conns []localclient.Connection
		want  overall
	}{
		{"nothing", nil, overallEmpty},
		{"fresh", []localclient.Connection{ok}, overallOK},
		{"expiring soon", []localclient.Connection{ok, conn("b", localclient.StateConnected, 5*time.Minute)}, overallExpiring},
		{"refreshing", []localclient.Connection{conn("b", localclient.StateRefreshing, 3*time.Hour), ok}, overallExpiring},
		{"needs reconnect wins", []localclient.Connection{conn("b", localclient.StateRefreshing, time.Minute), conn("c", localclient.StateNeedsReconnect, 0)}, overallAttention},
		{"expired", []localclient.Connection{ok, conn("c", localclient.StateExpired, -time.Minute)}, overallAttention},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := overallOf(tt.conns, t0); got != tt.want {
				t.Fatalf("overallOf(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestStatusLineCoversEveryState(t *testing.T) {
	seen := map[string]bool{}
	unknown, _ := statusLine(localclient.Connection{State: "bogus"}, "", t0, 4*time.Hour, false)
	for _, s := range []string{localclient.StateConnecting, localclient.StateConnected, localclient.StateRefreshing, localclient.StateExpired, localclient.StateNeedsReconnect} {
		c := localclient.Connection{State: s, ExpiresAt: t0.Add(time.Hour)}
		w, _ := statusLine(c, "", t0, 4*time.Hour, false)
		if w == "" || seen[w] || w == unknown || !strings.HasSuffix(w, ".") && !strings.HasSuffix(w, "…") {
			t.Fatalf("statusLine(%q) = %q: empty, repeated, the unknown text or not a sentence", s, w)
		}
		seen[w] = true
		if gone, _ := statusLine(c, "boom.", t0, 4*time.Hour, true); strings.Contains(gone, "Connected") || strings.Contains(gone, "boom") {
			t.Fatalf("statusLine(%q) with the agent gone = %q", s, gone)
		}
	}
}

// shown is everything on a card that moves with the clock.
func shown(now time.Time, c localclient.Connection, lifetime time.Duration) string {
	line, _ := statusLine(c, "", now, lifetime, false)
	return fmt.Sprintf("%s|%.4f|%s", humantime.Until(now, c.ExpiresAt), math.Round(remaining(now, c.ExpiresAt, lifetime)*barSteps)/barSteps, line)
}

func TestNextChange(t *testing.T) {
	const life = 4 * time.Hour
	tests := []struct {
		name    string
		left    time.Duration
		atMost  time.Duration
		changes bool // the card looks different once the wait is over
	}{
		{"hours left", 3*time.Hour + 12*time.Minute + 7*time.Second + 300*time.Millisecond, time.Minute, true},
		{"on the minute", 2 * time.Hour, time.Minute, true},
		{"last minute", 42*time.Second + 250*time.Millisecond, time.Second, true},
		{"last second", 400 * time.Millisecond, time.Second, true},
		{"expired", -time.Minute, time.Minute, false},
		{"just refreshed", life - 3*time.Second, time.Minute, true},
		{"longer than its lifetime", life + 30*time.Second + 5*time.Millisecond, time.Minute, true},
		{"no key", 0, time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conn("a", localclient.StateConnected, tt.left)
			if tt.name == "no key" {
				c.ExpiresAt = time.Time{}
			}
			d := nextChange(t0, c, life)
			if d <= 0 || d > tt.atMost {
				t.Fatalf("nextChange = %v, want in (0, %v]", d, tt.atMost)
			}
			before := shown(t0, c, life)
			for at := time.Duration(0); at < d; at += max(d/500, time.Millisecond) {
				if got := shown(t0.Add(at), c, life); got != before {
					t.Fatalf("nextChange = %v, but at +%v the card already shows %q, not %q", d, at, got, before)
				}
			}
			// The countdown changes just after its wait, the rest at it.
			if got := shown(t0.Add(d+time.Millisecond), c, life); tt.changes && got == before {
				t.Fatalf("nextChange = %v, but the card still shows %q then: the timer wakes for nothing", d, got)
			}
		})
	}
}
