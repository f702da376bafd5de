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

	"github.com/tokentray/tokentray/internal/humantime"
	"github.com/tokentray/tokentray/localclient"
)

// card shows one connection: its label (editable), account, provider and
// extra fields, its scopes, the key's countdown, one status line and what
// can be done with it.
type card struct {
	u        *ui
	conn     localclient.Connection
	lifetime time.Duration
	gone     bool   // the agent is unreachable: the card is greyed
	lastErr  string // the last failed action, as a sentence; "" after a success
	errGen   int64  // the generation lastErr was about: a newer key clears it

	label     *widget.Entry
	saveLabel *widget.Button
	labelNote *widget.Label
	about     *widget.Label
	id        *widget.Label  // the connection id scripts name it by
	copyID    *widget.Button // copies the id
	isDefault *widget.Label  // "Default: scripts that name exchange get this one"
	makeDef   *widget.Button // marks it the provider's default
	chips     *fyne.Container
	bar       *widget.ProgressBar
	left      string // the bar's text
	state     *widget.Label
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
	c.label.OnChanged = func(string) { c.showLabelNote("") }
	c.saveLabel = widget.NewButton("Save", func() { c.onRename(c.label.Text) })
	c.saveLabel.Disable()
	c.labelNote = widget.NewLabel("")
	c.labelNote.Hide()
	c.about = widget.NewLabel("")
	c.about.Wrapping = fyne.TextWrapWord
	c.id = widget.NewLabel("")
	c.id.Importance = widget.LowImportance
	c.copyID = widget.NewButtonWithIcon("Copy id", theme.ContentCopyIcon(), func() {
		c.u.app.Clipboard().SetContent(c.conn.ID)
		c.copyID.SetText("Copied")
	})
	c.isDefault = widget.NewLabel("")
	c.isDefault.Importance = widget.SuccessImportance
	c.isDefault.Hide()
	c.makeDef = widget.NewButton("Make default", c.onMakeDefault)
	c.makeDef.Hide()
	c.chips = container.NewHBox()
	c.bar = widget.NewProgressBar()
	c.bar.TextFormatter = func() string { return c.left }
	c.state = widget.NewLabel("")
	c.state.Wrapping = fyne.TextWrapWord
	c.reconnect = widget.NewButtonWithIcon("Reconnect", theme.LoginIcon(), c.onReconnect)
	c.reconnect.Importance = widget.HighImportance
	c.refreshB = widget.NewButtonWithIcon("Refresh now", theme.ViewRefreshIcon(), c.onRefresh)
	c.revoke = widget.NewButtonWithIcon("Revoke…", theme.DeleteIcon(), c.onRevoke)
	c.revoke.Importance = widget.DangerImportance
	c.box = widget.NewCard("", "", container.NewVBox(
		container.NewBorder(nil, nil, nil, c.saveLabel, c.label), c.labelNote,
		c.about, container.NewHBox(c.id, c.copyID, c.isDefault, c.makeDef), c.chips, c.bar, c.state,
		container.NewHBox(c.reconnect, c.refreshB, c.revoke),
	))
}

// update shows conn, as the agent sent it; gone greys the card while the
// agent cannot be reached.
func (c *card) update(conn localclient.Connection, p *localclient.Provider, now time.Time, gone bool) {
	renamed := conn.Label != c.conn.Label
	if conn.Generation > c.errGen || (conn.State == localclient.StateConnected && c.conn.State == localclient.StateNeedsReconnect) {
		c.lastErr = "" // a new key, or a reconnect, is the success that clears an old error
	}
	c.conn, c.lifetime, c.gone = conn, lifetimeOf(p), gone
	if renamed || c.u.win.w.Canvas().Focused() != c.label {
		c.label.SetText(conn.Label)
		c.showLabelNote("")
	}
	c.about.SetText(about(conn, p))
	if idText := "Scripts name it " + conn.ID; c.id.Text != idText {
		c.id.SetText(idText)
		c.copyID.SetText("Copy id")
	}
	c.showDefault(conn)
	var offered []localclient.Scope
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
	if needsUser(conn) && !gone {
		c.reconnect.Show()
	} else {
		c.reconnect.Hide()
	}
	// A dead connection has no running key to count down.
	if needsUser(conn) || gone {
		c.bar.Hide()
	} else {
		c.bar.Show()
	}
	busy := conn.State == localclient.StateRefreshing || conn.State == localclient.StateConnecting
	for _, w := range []fyne.Disableable{c.refreshB, c.revoke, c.reconnect, c.label} {
		if gone || (busy && w == c.refreshB) {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	c.refreshB.SetText("Refresh now")
	if conn.State == localclient.StateRefreshing {
		c.refreshB.SetText("Refreshing…")
	}
	c.showState(now)
	c.tick(now)
}

// showDefault says whether scripts that name the provider get this
// connection; it matters only when the provider has several.
func (c *card) showDefault(conn localclient.Connection) {
	several, anyDefault := 0, false
	for _, x := range c.u.conns {
		if x.Provider == conn.Provider {
			several++
			anyDefault = anyDefault || x.Default
		}
	}
	switch {
	case several < 2:
		c.isDefault.Hide()
		c.makeDef.Hide()
	case conn.Default:
		c.isDefault.SetText("Default: scripts that name " + conn.Provider + " get this one")
		c.isDefault.Importance = widget.SuccessImportance
		c.isDefault.Show()
		c.makeDef.Hide()
	case !anyDefault:
		// The agent picks none by itself (a default is the trader's
		// choice), so until one is made, scripts naming the provider fail.
		c.isDefault.SetText("No default: scripts that name " + conn.Provider + " fail until you pick one")
		c.isDefault.Importance = widget.WarningImportance
		c.isDefault.Show()
		c.makeDef.SetText("Make default for " + conn.Provider)
		c.makeDef.Show()
	default:
		c.isDefault.Hide()
		c.makeDef.SetText("Make default for " + conn.Provider)
		c.makeDef.Show()
	}
	c.isDefault.Refresh()
}

// onMakeDefault marks the connection its provider's default; the agent
// clears the others and sends their changes as events.
func (c *card) onMakeDefault() {
	id, on := c.conn.ID, true
	c.makeDef.Disable()
	var got *localclient.Connection
	c.u.call(func(ctx context.Context) (err error) {
		got, err = c.u.client.UpdateConnection(ctx, id, localclient.ConnectionPatch{Default: &on})
		return err
	}, func(err error) {
		c.makeDef.Enable()
		if err != nil {
			c.fail(err)
			return
		}
		c.u.apply(localclient.Event{Type: "state", Connection: *got})
	})
}

// showState sets the status line.
func (c *card) showState(now time.Time) {
	text, imp := statusLine(c.conn, c.lastErr, now, c.lifetime, c.gone)
	if c.state.Text != text || c.state.Importance != imp {
		c.state.Importance = imp
		c.state.SetText(text)
	}
}

// showLabelNote says whether the label is saved: "" works it out from the
// entry (a pending edit asks for Enter or Save).
func (c *card) showLabelNote(say string) {
	pending := c.label.Text != c.conn.Label
	if pending {
		c.saveLabel.Enable()
	} else {
		c.saveLabel.Disable()
	}
	if say == "" && pending {
		say = "Not saved yet: press Enter or Save."
	}
	if say == "" {
		c.labelNote.Hide()
		return
	}
	c.labelNote.SetText(say)
	c.labelNote.Show()
}

// about is the line under the label: account, provider and extra fields.
func about(conn localclient.Connection, p *localclient.Provider) string {
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
	left := humantime.Until(now, c.conn.ExpiresAt)
	v := math.Round(remaining(now, c.conn.ExpiresAt, c.lifetime)*barSteps) / barSteps
	if left != c.left || v != c.bar.Value {
		c.left = left
		c.bar.SetValue(v)
	}
	c.showState(now) // "refreshed 4 min ago" moves with the minute
}

// fail records a failed action on the card's status line until a success.
func (c *card) fail(err error) {
	c.lastErr = c.u.say(err, c.conn.Provider)
	c.errGen = c.conn.Generation
	c.showState(c.u.now())
}

func (c *card) onRefresh() {
	c.refreshB.Disable()
	c.refreshB.SetText("Refreshing…")
	c.u.refresh(c.conn.ID, func(got *localclient.Connection, err error) {
		c.refreshB.SetText("Refresh now")
		c.refreshB.Enable()
		if err != nil {
			c.fail(err)
			return
		}
		c.lastErr = ""
		c.u.apply(localclient.Event{Type: "refreshed", Connection: *got})
	})
}

func (c *card) onRevoke()    { c.u.confirmRevoke(c.conn.ID) }
func (c *card) onReconnect() { c.u.reconnect(c.conn.ID) }

// onRename saves a new label (Enter or Save) and says so; a refused one is
// put back with the reason.
func (c *card) onRename(label string) {
	label = strings.TrimSpace(label)
	if label == c.conn.Label {
		c.showLabelNote("")
		return
	}
	id := c.conn.ID
	c.saveLabel.Disable()
	c.showLabelNote("Saving…")
	var got *localclient.Connection
	c.u.call(func(ctx context.Context) (err error) {
		got, err = c.u.client.UpdateConnection(ctx, id, localclient.ConnectionPatch{Label: &label})
		return err
	}, func(err error) {
		if err != nil {
			c.label.SetText(c.conn.Label)
			c.showLabelNote("Not saved: " + c.u.say(err, c.conn.Provider))
			return
		}
		c.u.apply(localclient.Event{Type: "state", Connection: *got})
		c.showLabelNote("Saved.")
	})
}
