package app

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/localapi"
)

// labels lists the menu's labels, submenus indented, separators as "---".
func labels(m []menuEntry, indent string) []string {
	var out []string
	for _, e := range m {
		if e.Separator {
			out = append(out, indent+"---")
			continue
		}
		out = append(out, indent+e.Label)
		out = append(out, labels(e.Children, indent+"  ")...)
	}
	return out
}

func TestTrayMenu(t *testing.T) {
	tests := []struct {
		name  string
		conns []localapi.Connection
		note  string
		want  []string
	}{
		{"empty", nil, "", []string{"Nothing connected", "---", "Add connection…", "Open tokentray", "---", "Quit"}},
		{"loading", nil, "Loading…", []string{"Loading…", "---", "Add connection…", "Open tokentray", "---", "Quit"}},
		{"agent gone", []localapi.Connection{conn("a", localapi.StateConnected, time.Hour)}, "Cannot reach the tokentray agent; retrying",
			[]string{"Cannot reach the tokentray agent; retrying", "---", "Add connection…", "Open tokentray", "---", "Quit"}},
		{"connected and needing reconnect", []localapi.Connection{
			conn("a", localapi.StateConnected, 3*time.Hour+12*time.Minute+30*time.Second),
			conn("b", localapi.StateNeedsReconnect, -time.Hour),
			conn("c", localapi.StateConnected, 20*time.Second),
		}, "", []string{
			"Ann's a — 3 h 12 min left", "  Refresh now", "  Revoke…",
			"Ann's b — needs reconnect", "  Reconnect", "  Refresh now", "  Revoke…",
			"Ann's c — under a minute left", "  Refresh now", "  Revoke…",
			"---", "Add connection…", "Open tokentray", "---", "Quit",
		}},
		{"refreshing and expired", []localapi.Connection{
			conn("a", localapi.StateRefreshing, time.Minute),
			conn("b", localapi.StateExpired, -time.Minute),
		}, "", []string{
			"Ann's a — refreshing", "  Refresh now", "  Revoke…",
			"Ann's b — expired", "  Reconnect", "  Refresh now", "  Revoke…",
			"---", "Add connection…", "Open tokentray", "---", "Quit",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := labels(trayMenu(tt.conns, t0, tt.note), "")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("trayMenu =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestTrayMenuActionsNameTheirConnection(t *testing.T) {
	m := trayMenu([]localapi.Connection{conn("b", localapi.StateNeedsReconnect, 0)}, t0, "")
	want := []action{actReconnect, actRefresh, actRevoke}
	for i, e := range m[0].Children {
		if e.Action != want[i] || e.Conn != "b" {
			t.Fatalf("entry %d = %+v, want action %v on b", i, e, want[i])
		}
	}
	last := m[len(m)-1]
	if last.Label != "Quit" || last.Action != actQuit {
		t.Fatalf("last entry = %+v, want Quit", last)
	}
}

func TestNotification(t *testing.T) {
	c := conn("a", localapi.StateConnected, time.Hour)
	with := func(state string) localapi.Connection { x := c; x.State = state; return x }
	tests := []struct {
		name      string
		prev      string
		ev        localapi.Event
		wantTitle string // "" for none
	}{
		{"connected", "", localapi.Event{Type: "connected", Connection: c}, "Connected"},
		{"revoked", localapi.StateConnected, localapi.Event{Type: "revoked", Connection: c}, "Revoked"},
		{"refreshed", localapi.StateRefreshing, localapi.Event{Type: "refreshed", Connection: c}, ""},
		{"refresh starts", localapi.StateConnected, localapi.Event{Type: "state", Connection: with(localapi.StateRefreshing)}, ""},
		{"refresh failed, key still valid", localapi.StateRefreshing, localapi.Event{Type: "state", Connection: c}, "Refresh failed"},
		{"refresh failed, expired", localapi.StateRefreshing, localapi.Event{Type: "state", Connection: with(localapi.StateExpired)}, "Refresh failed"},
		{"needs reconnect", localapi.StateRefreshing, localapi.Event{Type: "state", Connection: with(localapi.StateNeedsReconnect)}, "Needs reconnect"},
		{"still needs reconnect", localapi.StateNeedsReconnect, localapi.Event{Type: "state", Connection: with(localapi.StateNeedsReconnect)}, ""},
		{"renamed", localapi.StateConnected, localapi.Event{Type: "state", Connection: c}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := notification(tt.prev, tt.ev, t0)
			if ok != (tt.wantTitle != "") || n.Title != tt.wantTitle {
				t.Fatalf("notification(%q, %s %s) = %+v, %v; want title %q", tt.prev, tt.ev.Type, tt.ev.Connection.State, n, ok, tt.wantTitle)
			}
			if ok && !strings.Contains(n.Body, c.Label) {
				t.Fatalf("notification body %q does not name %q", n.Body, c.Label)
			}
		})
	}
}
