package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/tokentray/tokentray/assets"
	"github.com/tokentray/tokentray/localclient"
)

// tray is the system tray icon and its menu. All of it runs on the Fyne
// thread.
type tray struct {
	u    *ui
	desk desktop.App // nil when the app has no tray (the test driver)
	// last shown, to skip identical rebuilds
	icon    overall
	menuKey string
	menu    []menuEntry
}

// newTray sets the icon and a first menu at once: called before the Fyne
// app runs, this is what makes the item register with the desktop's tray.
func newTray(u *ui) *tray {
	t := &tray{u: u, icon: -1}
	t.desk, _ = u.app.(desktop.App)
	t.update(nil)
	return t
}

// trayIcons maps each overall state to its icon.
var trayIcons = map[overall]fyne.Resource{
	overallEmpty:     assets.TrayEmpty,
	overallOK:        assets.TrayOK,
	overallExpiring:  assets.TrayExpiring,
	overallAttention: assets.TrayAttention,
}

// update shows conns: the icon of their overall state, and the menu when
// its text changed (labels change with the minute, so at most once a
// minute, besides real changes).
func (t *tray) update(conns []localclient.Connection) {
	now := t.u.now()
	o, note := overallOf(conns, now), ""
	switch {
	case t.u.agentErr != nil:
		o, note = overallAttention, "Cannot reach the tokentray agent; retrying"
	case !t.u.loaded:
		note = "Loading…"
	}
	if o != t.icon {
		t.icon = o
		if t.desk != nil {
			t.desk.SetSystemTrayIcon(trayIcons[o])
		}
	}
	m := trayMenu(conns, now, note)
	key := menuKey(m)
	if key == t.menuKey {
		return
	}
	t.menuKey, t.menu = key, m
	if t.desk != nil {
		t.desk.SetSystemTrayMenu(fyne.NewMenu("tokentray", t.items(m)...))
	}
}

// menuKey is the menu's text, to compare menus.
func menuKey(m []menuEntry) string {
	var b strings.Builder
	for _, e := range m {
		fmt.Fprintf(&b, "%s|%d|%s|%t[%s]\n", e.Label, e.Action, e.Conn, e.Separator, menuKey(e.Children))
	}
	return b.String()
}

// items turns menu data into Fyne menu items.
func (t *tray) items(m []menuEntry) []*fyne.MenuItem {
	items := make([]*fyne.MenuItem, 0, len(m))
	for _, e := range m {
		if e.Separator {
			items = append(items, fyne.NewMenuItemSeparator())
			continue
		}
		it := fyne.NewMenuItem(e.Label, nil)
		if e.Action != actNone {
			e := e
			it.Action = func() { t.u.run(e) }
		}
		if len(e.Children) > 0 {
			it.ChildMenu = fyne.NewMenu("", t.items(e.Children)...)
		}
		if e.Action == actNone && len(e.Children) == 0 {
			it.Disabled = true
		}
		it.IsQuit = e.Action == actQuit
		items = append(items, it)
	}
	return items
}

// run does what a menu entry says.
func (u *ui) run(e menuEntry) {
	switch e.Action {
	case actReconnect:
		u.win.show()
		u.reconnect(e.Conn)
	case actRefresh:
		conn, _ := u.connection(e.Conn)
		u.refresh(e.Conn, func(got *localclient.Connection, err error) {
			if err != nil {
				u.notify(conn.ID, note{"Refresh failed", conn.Label + ": " + u.say(err, conn.Provider)})
				return
			}
			u.apply(localclient.Event{Type: "refreshed", Connection: *got})
		})
	case actRevoke:
		u.win.show()
		u.confirmRevoke(e.Conn)
	case actAdd:
		u.win.show()
		u.openAdd(nil)
	case actOpen:
		u.win.show()
	case actQuit:
		u.askQuit()
	}
}
