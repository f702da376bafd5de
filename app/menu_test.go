package app

import (
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/localclient"
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
		conns []localclient.Connection
		note  string
		want  []string
	}{
		{"empty", nil, "", []string{"Nothing connected", "---", "Add connection…", "Open tokentray", "---", "Quit"}},
		{"loading", nil, "Loading…", []string{"Loading…", "---", "Add connection…", "Open tokentray", "---", "Quit"}},
		{"agent gone", []localclient.Connection{conn("a", localclient.StateConnected, time.Hour)}, "Cannot reach the tokentray agent; retrying",
			[]string{"Cannot reach the tokentray agent; retrying", "---", "Add connection…", "Open tokentray", "---", "Quit"}},
		{"connected and needing reconnect", []localclient.Connection{
			conn("a", localclient.StateConnected, 3*time.Hour+12*time.Minute+30*time.Second),
			conn("b", localclient.StateNeedsReconnect, -time.Hour),
			conn("c", localclient.StateConnected, 20*time.Second),
		}, "", []string{
			"Ann's a — 3 h 12 min left", "  Refresh now", "  Revoke…",
			"Ann's b — needs reconnect", "  Reconnect", "  Refresh now", "  Revoke…",
			"Ann's c — under a minute left", "  Refresh now", "  Revoke…",
			"---", "Add connection…", "Open tokentray", "---", "Quit",
		}},
		{"refreshing and expired", []localclient.Connection{
			conn("a", localclient.StateRefreshing, time.Minute),
			conn("b", localclient.StateExpired, -time.Minute),
		}, "", []string{
			"Ann's a — refreshing", "  Refresh now", "  Revoke…",
			"Ann's b — expired", "  Reconnect", "  Refresh now", "  Revoke…",
			"---", "Add connection…", "Open tokentray", "---", "Quit",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := labels(trayMenu(tt.conns, t0, tt.note, 0), "")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("trayMenu =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestTrayMenuActionsNameTheirConnection(t *testing.T) {
	m := trayMenu([]localclient.Connection{conn("b", localclient.StateNeedsReconnect, 0)}, t0, "", 0)
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
	c := conn("a", localclient.StateConnected, time.Hour)
	with := func(state string) localclient.Connection { x := c; x.State = state; return x }
	tests := []struct {
		name      string
		prev      string
		ev        localclient.Event
		wantTitle string // "" for none
	}{
		{"connected", "", localclient.Event{Type: "connected", Connection: c}, "Connected"},
		{"revoked", localclient.StateConnected, localclient.Event{Type: "revoked", Connection: c}, "Revoked"},
		{"refreshed", localclient.StateRefreshing, localclient.Event{Type: "refreshed", Connection: c}, ""},
		{"refresh starts", localclient.StateConnected, localclient.Event{Type: "state", Connection: with(localclient.StateRefreshing)}, ""},
		{"refresh failed, key still valid", localclient.StateRefreshing, localclient.Event{Type: "state", Connection: c}, "Refresh failed"},
		{"refresh failed, expired", localclient.StateRefreshing, localclient.Event{Type: "state", Connection: with(localclient.StateExpired)}, "Refresh failed"},
		{"needs reconnect", localclient.StateRefreshing, localclient.Event{Type: "state", Connection: with(localclient.StateNeedsReconnect)}, "Needs reconnect"},
		{"still needs reconnect", localclient.StateNeedsReconnect, localclient.Event{Type: "state", Connection: with(localclient.StateNeedsReconnect)}, ""},
		{"renamed", localclient.StateConnected, localclient.Event{Type: "state", Connection: c}, ""},
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
