package app

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
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
	badge   bool // apps wait for an approval
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

// badgeColor is the badge's fill: apps are waiting for an answer.
var badgeColor = color.NRGBA{R: 0x29, G: 0x79, B: 0xff, A: 0xff}

// badged caches the state icons with a badge, made on first use (Fyne
// thread).
var badged = map[overall]fyne.Resource{}

// trayIcon returns the icon for the overall state o, with a badge drawn on
// it while apps wait for an approval.
func trayIcon(o overall, badge bool) fyne.Resource {
	base := trayIcons[o]
	if !badge {
		return base
	}
	if r := badged[o]; r != nil {
		return r
	}
	r, err := withBadge(base)
	if err != nil {
		return base // the menu still says "N requests waiting…"
	}
	badged[o] = r
	return r
}

// withBadge draws a dot with a white ring in the top-right corner of the
// PNG icon res.
func withBadge(res fyne.Resource) (fyne.Resource, error) {
	src, err := png.Decode(bytes.NewReader(res.Content()))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", res.Name(), err)
	}
	b := src.Bounds()
	img := image.NewNRGBA(b)
	draw.Draw(img, b, src, b.Min, draw.Src)
	size := float64(min(b.Dx(), b.Dy()))
	outer := size * 0.24 // radius, ring included
	inner := outer - size*0.05
	cx, cy := float64(b.Max.X)-outer, float64(b.Min.Y)+outer
	white := color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
			switch {
			case d <= inner:
				img.SetNRGBA(x, y, badgeColor)
			case d <= outer:
				img.SetNRGBA(x, y, white)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode %s with a badge: %w", res.Name(), err)
	}
	return fyne.NewStaticResource(strings.TrimSuffix(res.Name(), ".png")+"-badge.png", buf.Bytes()), nil
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
	waiting := 0
	if t.u.prompts != nil {
		waiting = t.u.prompts.waiting()
	}
	if o != t.icon || (waiting > 0) != t.badge {
		t.icon, t.badge = o, waiting > 0
		if t.desk != nil {
			t.desk.SetSystemTrayIcon(trayIcon(o, t.badge))
		}
	}
	m := trayMenu(conns, now, note, waiting)
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
		u.openWindow()
	case actPrompts:
		if u.prompts != nil {
			u.prompts.show()
		}
	case actQuit:
		u.askQuit()
	}
}
