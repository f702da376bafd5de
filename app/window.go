package app

import (
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/assets"
	"github.com/tokentray/tokentray/localclient"
)

// mainWindow is the window titled "tokentray": a card per connection, the
// activity, the apps decided about and the settings. While it is hidden
// nothing in it ticks, and with a tray to bring it back it is closed: its GL
// surface, textures and renderers are freed, and showing it again opens a
// new window on the same widgets.
type mainWindow struct {
	u       *ui
	w       fyne.Window
	content fyne.CanvasObject
	closed  bool // w was closed on hide; show opens a new one

	visible  bool
	stopTick func() bool // stops the countdown timer; nil when none is set

	agentErr *widget.Label
	empty    fyne.CanvasObject
	list     *fyne.Container
	cards    map[string]*card
	tabs     *container.AppTabs
	activity *activityTab
	apps     *appsTab
	settings *settingsTab
}

func newMainWindow(u *ui) *mainWindow {
	m := &mainWindow{u: u, cards: map[string]*card{}}
	m.build()
	m.open()
	return m
}

// open makes the Fyne window for the widgets; Fyne gives it a GL surface
// only when it is first shown.
func (m *mainWindow) open() {
	m.w = m.u.app.NewWindow("tokentray")
	m.w.SetIcon(assets.Icon)
	m.w.SetContent(m.content)
	m.w.Resize(fyne.NewSize(720, 640))
	m.w.SetCloseIntercept(m.onClose)
	m.closed = false
}

func (m *mainWindow) build() {
	m.agentErr = widget.NewLabel("")
	m.agentErr.Importance = widget.DangerImportance
	m.agentErr.Wrapping = fyne.TextWrapWord
	m.agentErr.Hide()

	add := widget.NewButtonWithIcon("Add connection…", theme.ContentAddIcon(), func() { m.u.openAdd(nil) })
	add.Importance = widget.HighImportance
	quit := widget.NewButton("Quit", func() { m.u.askQuit() })
	m.empty = widget.NewLabel("Nothing connected yet. Add a connection to hand its keys to your scripts.")
	m.list = container.NewVBox(m.empty)
	conns := container.NewBorder(container.NewHBox(add), nil, nil, nil, container.NewVScroll(m.list))

	m.activity = newActivityTab(m.u)
	m.apps = newAppsTab(m.u)
	m.settings = newSettingsTab(m.u)
	m.tabs = container.NewAppTabs(
		container.NewTabItem("Connections", conns),
		container.NewTabItem("Activity", m.activity.build()),
		container.NewTabItem("Apps", m.apps.build()),
		container.NewTabItem("Settings", m.settings.build()),
	)
	m.tabs.OnSelected = func(ti *container.TabItem) { m.onTab(ti.Text) }
	top := container.NewBorder(nil, nil, nil, quit, m.agentErr)
	m.content = container.NewBorder(top, nil, nil, nil, m.tabs)
}

// show shows the window and starts its countdown timer.
func (m *mainWindow) show() {
	if m.closed {
		m.open()
	}
	m.w.Show()
	m.w.RequestFocus()
	if m.visible {
		return
	}
	m.visible = true
	m.tick()
	m.onTab(m.tabs.Selected().Text)
}

// hide hides the window and stops its countdown timer: nothing redraws
// while hidden. With a tray the window is closed, and the memory it held
// is given back to the system a moment later, once Fyne has destroyed it.
func (m *mainWindow) hide() {
	if m.u.trayMode() && !m.closed {
		m.w.Close()
		m.closed = true
		m.u.after(releaseAfter, releaseMemory)
	} else {
		m.w.Hide()
	}
	if !m.visible {
		return
	}
	m.visible = false
	m.stopTimer()
}

// releaseAfter is how long after a close the memory is released: Fyne
// destroys the window at its next frame.
const releaseAfter = 2 * time.Second

func (m *mainWindow) stopTimer() {
	if m.stopTick != nil {
		m.stopTick()
		m.stopTick = nil
	}
}

// onClose hides the window when the tray can bring it back, else quits.
func (m *mainWindow) onClose() {
	if !m.u.trayMode() {
		m.u.askQuit()
		return
	}
	m.hide()
}

// onTab loads what a tab shows when it is opened.
func (m *mainWindow) onTab(name string) {
	switch name {
	case "Activity":
		m.activity.reload()
	case "Apps":
		m.apps.reload()
	case "Settings":
		m.settings.reload()
	}
}

// tick moves the countdowns, then sets the timer for the moment the next
// one changes: once a minute for keys with minutes left, once a second only
// in a key's last minute. It runs only while the window shows.
func (m *mainWindow) tick() {
	m.stopTimer()
	if !m.visible {
		return // a tick queued just before hide
	}
	now := m.u.now()
	next := time.Minute
	for _, c := range m.cards {
		c.tick(now)
		next = min(next, nextChange(now, c.conn, c.lifetime))
	}
	// A little late rather than early: the text has changed by then.
	m.stopTick = m.u.after(next+10*time.Millisecond, func() { m.u.do(m.tick) })
}

// update shows conns: a card per connection, in the agent's order.
func (m *mainWindow) update(conns []localclient.Connection) {
	ids := make([]string, len(conns))
	for i, c := range conns {
		ids[i] = c.ID
	}
	for id := range m.cards {
		if !slices.Contains(ids, id) {
			delete(m.cards, id)
		}
	}
	objs := make([]fyne.CanvasObject, 0, len(conns))
	for _, c := range conns {
		cd, ok := m.cards[c.ID]
		if !ok {
			cd = newCard(m.u)
			m.cards[c.ID] = cd
		}
		cd.update(c, m.u.provider(c.Provider), m.u.now(), m.u.agentErr != nil)
		objs = append(objs, cd.box)
	}
	if len(objs) == 0 {
		objs = append(objs, m.empty)
	}
	if !sameObjects(m.list.Objects, objs) {
		m.list.Objects = objs
		m.list.Refresh()
	}
	m.settings.updateConns(conns)
	if m.visible {
		m.tick() // a new key may change sooner than the timer is set for
	}
}

func sameObjects(a, b []fyne.CanvasObject) bool {
	return slices.EqualFunc(a, b, func(x, y fyne.CanvasObject) bool { return x == y })
}

// showAgentErr shows why the agent cannot be reached, or hides the line.
func (m *mainWindow) showAgentErr(err error) {
	if err == nil {
		m.agentErr.Hide()
		return
	}
	m.agentErr.SetText("The tokentray agent is not answering, so what you see here may be out of date. Retrying…")
	m.agentErr.Show()
}
