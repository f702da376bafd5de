package app

import (
	"context"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localapi"
)

// card shows one connection: its label (editable), account, provider and
// extra fields, its scopes, the key's countdown, its state in words and
// what can be done with it.
type card struct {
	u        *ui
	conn     localapi.Connection
	lifetime time.Duration

	label     *widget.Entry
	about     *widget.Label
	chips     *fyne.Container
	bar       *widget.ProgressBar
	left      string // the bar's text
	state     *widget.Label
	errLine   *widget.Label
	reconnect *widget.Button
	refreshB  *widget.Button
	revoke    *widget.Button
	box       fyne.CanvasObject
}

func newCard(u *ui) *card {
	c := &card{u: u}
	c.build()
	return c
}

func (c *card) build() {
	c.label = widget.NewEntry()
	c.label.TextStyle = fyne.TextStyle{Bold: true}
	c.label.OnSubmitted = c.onRename
	c.about = widget.NewLabel("")
	c.about.Wrapping = fyne.TextWrapWord
	c.chips = container.NewHBox()
	c.bar = widget.NewProgressBar()
	c.bar.TextFormatter = func() string { return c.left }
	c.state = widget.NewLabel("")
	c.state.Wrapping = fyne.TextWrapWord
	c.errLine = widget.NewLabel("")
	c.errLine.Importance = widget.DangerImportance
	c.errLine.Wrapping = fyne.TextWrapWord
	c.errLine.Hide()
	c.reconnect = widget.NewButtonWithIcon("Reconnect", theme.LoginIcon(), c.onReconnect)
	c.reconnect.Importance = widget.HighImportance
	c.refreshB = widget.NewButtonWithIcon("Refresh now", theme.ViewRefreshIcon(), c.onRefresh)
	c.revoke = widget.NewButtonWithIcon("Revoke…", theme.DeleteIcon(), c.onRevoke)
	c.revoke.Importance = widget.DangerImportance
	rename := widget.NewButton("Rename", func() { c.onRename(c.label.Text) })
	c.box = widget.NewCard("", "", container.NewVBox(
		container.NewBorder(nil, nil, nil, rename, c.label),
		c.about, c.chips, c.bar, c.state, c.errLine,
		container.NewHBox(c.reconnect, c.refreshB, c.revoke),
	))
}

// update shows conn, as the agent sent it.
func (c *card) update(conn localapi.Connection, p *localapi.Provider, now time.Time) {
	renamed := conn.Label != c.conn.Label
	c.conn, c.lifetime = conn, lifetimeOf(p)
	if renamed || c.u.win.w.Canvas().Focused() != c.label {
		c.label.SetText(conn.Label)
	}
	c.about.SetText(about(conn, p))
	var offered []localapi.Scope
	if p != nil {
		offered = p.Scopes
	}
	var chips []fyne.CanvasObject
	for _, ch := range scopeChips(offered, conn.ScopesRequested, conn.ScopesGranted) {
		l := widget.NewLabel(ch.Text())
		l.Importance = map[chipKind]widget.Importance{
			chipGranted: widget.SuccessImportance, chipNotGranted: widget.WarningImportance, chipNotRequested: widget.LowImportance,
		}[ch.Kind]
		chips = append(chips, l)
	}
	c.chips.Objects = chips
	c.chips.Refresh()
	c.state.SetText(stateWords(conn))
	c.state.Importance = widget.MediumImportance
	if needsUser(conn) {
		c.state.Importance = widget.WarningImportance
		c.reconnect.Show()
	} else {
		c.reconnect.Hide()
	}
	if conn.State == localapi.StateRefreshing || conn.State == localapi.StateConnecting {
		c.refreshB.Disable()
	} else {
		c.refreshB.Enable()
	}
	c.tick(now)
}

// about is the line under the label: account, provider and extra fields.
func about(conn localapi.Connection, p *localapi.Provider) string {
	name := conn.Provider
	if p != nil && p.Name != "" {
		name = p.Name
	}
	parts := []string{"Account " + conn.Account, name}
	for _, k := range slices.Sorted(maps.Keys(conn.Fields)) {
		parts = append(parts, k+": "+conn.Fields[k])
	}
	return strings.Join(parts, " · ")
}

// barSteps is the bar's resolution: finer than a pixel of a wide window,
// coarse enough that a 4-hour key moves it about every 30 s, not every tick.
const barSteps = 500

// tick moves the countdown; it redraws only what changed, so a second that
// changes neither the text nor the bar costs nothing.
func (c *card) tick(now time.Time) {
	left := countdown(now, c.conn.ExpiresAt)
	v := math.Round(remaining(now, c.conn.ExpiresAt, c.lifetime)*barSteps) / barSteps
	if left == c.left && v == c.bar.Value {
		return
	}
	c.left = left
	c.bar.SetValue(v)
}

func (c *card) showErr(err error) {
	if err == nil {
		c.errLine.Hide()
		return
	}
	c.errLine.SetText(err.Error())
	c.errLine.Show()
}

func (c *card) onRefresh() {
	c.refreshB.Disable()
	c.u.refresh(c.conn.ID, func(err error) {
		c.refreshB.Enable()
		c.showErr(err)
	})
}

func (c *card) onRevoke()    { c.u.confirmRevoke(c.conn.ID) }
func (c *card) onReconnect() { c.u.reconnect(c.conn.ID) }

// onRename saves a new label; a refused one is put back.
func (c *card) onRename(label string) {
	if label == c.conn.Label {
		return
	}
	id, old := c.conn.ID, c.conn.Label
	var got *localapi.Connection
	c.u.call(func(ctx context.Context) (err error) {
		got, err = c.u.client.UpdateConnection(ctx, id, localapi.ConnectionPatch{Label: &label})
		return err
	}, func(err error) {
		c.showErr(err)
		if err != nil {
			c.label.SetText(old)
			return
		}
		c.u.apply(localapi.Event{Type: "state", Connection: *got})
	})
}
