package app

import (
	"time"

	"github.com/tokentray/tokentray/internal/humantime"
	"github.com/tokentray/tokentray/localclient"
)

// action is what a menu entry does when chosen.
type action int

const (
	actNone      action = iota // a label only, or a submenu
	actReconnect               // run the connect flow again for the connection
	actRefresh                 // refresh the connection's key now
	actRevoke                  // ask, then revoke the connection
	actAdd                     // open the Add connection dialog
	actOpen                    // show the window
	actQuit                    // quit tokentray
	actPrompts                 // show the approval prompts waiting
)

// menuEntry is one item of the tray menu, as data: the tray turns it into a
// fyne.MenuItem, the tests read it as it is. A zero entry with Separator set
// is a separator line.
type menuEntry struct {
	Label     string
	Action    action
	Conn      string // the connection an action applies to
	Children  []menuEntry
	Separator bool
}

// trayMenu is the tray menu for conns at now: "N requests waiting…" first
// when apps wait for an approval, then each connection as "label — 3h 12m
// left" with its actions, then Add, Open and Quit. A note ("Loading…", the
// agent gone) stands in for the connections. The labels change with the
// minute, so the tray rebuilds the menu at most once a minute, or when a
// connection or the requests waiting change.
func trayMenu(conns []localclient.Connection, now time.Time, note string, waiting int) []menuEntry {
	var m []menuEntry
	if waiting > 0 {
		m = append(m, menuEntry{Label: waitingLabel(waiting) + "…", Action: actPrompts}, menuEntry{Separator: true})
	}
	if note != "" {
		conns = nil
		m = append(m, menuEntry{Label: note})
	}
	for _, c := range conns {
		connect := menuEntry{Label: "Reconnect", Action: actReconnect, Conn: c.ID}
		sub := []menuEntry{
			{Label: "Refresh now", Action: actRefresh, Conn: c.ID},
			{Label: "Revoke…", Action: actRevoke, Conn: c.ID},
		}
		if needsUser(c) {
			sub = append([]menuEntry{connect}, sub...)
		}
		m = append(m, menuEntry{Label: c.Label + " — " + menuStatus(c, now), Children: sub})
	}
	if len(conns) == 0 && note == "" {
		m = append(m, menuEntry{Label: "Nothing connected"})
	}
	return append(m,
		menuEntry{Separator: true},
		menuEntry{Label: "Add connection…", Action: actAdd},
		menuEntry{Label: "Open tokentray", Action: actOpen},
		menuEntry{Separator: true},
		menuEntry{Label: "Quit", Action: actQuit},
	)
}

// menuStatus is the short state of a connection in the menu, to the minute.
func menuStatus(c localclient.Connection, now time.Time) string {
	switch c.State {
	case localclient.StateNeedsReconnect:
		return "needs reconnect"
	case localclient.StateExpired:
		return "expired"
	case localclient.StateRefreshing:
		return "refreshing"
	case localclient.StateConnecting:
		return "connecting"
	}
	if d := c.ExpiresAt.Sub(now); d > 0 && d < time.Minute {
		return "under a minute left"
	}
	return humantime.Left(now, c.ExpiresAt)
}

// note is a desktop notification to send.
type note struct {
	Title, Body string
}

// notification is what to tell the user about ev, given the connection's
// state before it (prev, "" when unknown) at now: connected, revoked, refresh
// failed, needs reconnect. Most events say nothing.
func notification(prev string, ev localclient.Event, now time.Time) (note, bool) {
	c := ev.Connection
	switch {
	case ev.Type == "connected":
		return note{"Connected", c.Label + " is connected; scripts can use its keys."}, true
	case ev.Type == "revoked":
		return note{"Revoked", c.Label + " was revoked and removed."}, true
	case c.State == localclient.StateNeedsReconnect && prev != localclient.StateNeedsReconnect:
		return note{"Needs reconnect", c.Label + ": the provider no longer accepts this connection. Open tokentray and reconnect."}, true
	case ev.Type == "state" && prev == localclient.StateRefreshing && c.State != localclient.StateRefreshing:
		return note{"Refresh failed", c.Label + ": the key could not be refreshed; tokentray will retry (" + humantime.Left(now, c.ExpiresAt) + ")."}, true
	}
	return note{}, false
}
