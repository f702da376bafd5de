package app

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/localclient"
)

// appsTab lists the apps the trader decided about (GET /v1/apps): per app ×
// connection, Always or Deny, when, how often used, each with Revoke. Above
// them, when the agent runs in this process, the proposals of `tokentray
// approve` wait for a human: Approve… or Dismiss. It loads when opened and
// again after each "approval" activity event while it shows; hidden, it
// only notes that it is out of date.
type appsTab struct {
	u *ui

	approval  *widget.Label   // says when approval is off
	proposals *fyne.Container // one row per proposal, or why there are none
	grants    *fyne.Container // one row per grant, or the empty text
	empty     *widget.Label
	status    *widget.Label
	props     []*proposalRow
	rows      []*grantRow

	loading bool            // a reload is on its way
	again   bool            // another reload was asked for while one was on its way
	stale   bool            // an event came while the tab did not show
	readErr bool            // status says the last reload failed
	told    map[string]bool // connection and app → the new-app notification was sent
}

// grantRow is one grant with its Revoke button.
type grantRow struct {
	app    localclient.App
	title  *widget.Label // "python3 bot.py: always allowed"
	detail *widget.Label // path, connection, dates, uses
	revoke *widget.Button
	box    fyne.CanvasObject
}

// proposalRow is one proposal with its buttons.
type proposalRow struct {
	p       approval.Proposal
	text    *widget.Label
	approve *widget.Button
	dismiss *widget.Button
	box     fyne.CanvasObject
}

func newAppsTab(u *ui) *appsTab { return &appsTab{u: u} }

// appsEmptyText explains approval where the list is empty.
const appsEmptyText = "No app is on the list yet.\n\n" +
	"With \"Approve each app\" on (Settings), the first time a program asks for a connection's keys " +
	"(a script, a bot, curl, the tokentray command in a script), tokentray asks you: Allow once, Always or Deny. " +
	"Your Always and Deny answers are listed here, per app and connection, and you can revoke each one: the app is then asked again.\n\n" +
	"You can also propose an app from a terminal, then confirm it here:\n" +
	"    tokentray approve /path/to/bot.py --connection ID"

func (a *appsTab) build() fyne.CanvasObject {
	a.approval = widget.NewLabel("")
	a.approval.Wrapping = fyne.TextWrapWord
	a.approval.Importance = widget.WarningImportance
	a.approval.Hide()
	a.proposals = container.NewVBox()
	a.empty = widget.NewLabel(appsEmptyText)
	a.empty.Wrapping = fyne.TextWrapWord
	a.grants = container.NewVBox(a.empty)
	a.status = widget.NewLabel("")
	a.status.Wrapping = fyne.TextWrapWord
	a.status.Hide()
	return container.NewVScroll(container.NewVBox(a.approval, a.proposals, a.status, a.grants))
}

// showing reports whether the tab is on screen.
func (a *appsTab) showing() bool {
	m := a.u.win
	return m.visible && m.tabs.Selected() != nil && m.tabs.Selected().Text == "Apps"
}

// onApproval is told of each approval activity (a use, a grant, a
// proposal …): the list reloads if it shows, else when it is next opened.
func (a *appsTab) onApproval() {
	if !a.showing() {
		a.stale = true
		return
	}
	a.reload()
}

// reload reads the grants from the socket, the proposals and the switch
// from the Approver, and shows them. Reloads asked for while one is on its
// way make one more, so a burst of uses costs two.
func (a *appsTab) reload() {
	if a.loading {
		a.again = true
		return
	}
	a.loading, a.stale = true, false
	ap := a.u.opts.Approver
	var (
		apps  []localclient.App
		props []approval.Proposal
		on    bool
	)
	a.u.call(func(ctx context.Context) (err error) {
		if apps, err = a.u.client.Apps(ctx); err != nil {
			return err
		}
		if ap != nil {
			props, on = ap.Proposals(), ap.ApproveApps()
			return nil
		}
		st, err := a.u.client.Settings(ctx)
		if err == nil {
			on = st.ApproveApps
		}
		return err
	}, func(err error) {
		a.loading = false
		switch {
		case err != nil:
			a.say("The apps could not be read. " + a.u.say(err, ""))
			a.readErr = true
		default:
			if a.readErr { // what an action said stays until the next one
				a.say("")
				a.readErr = false
			}
			a.show(apps, props, on)
		}
		if a.again {
			a.again = false
			a.reload()
		}
	})
}

// say shows a line about the last action, or hides it for "".
func (a *appsTab) say(text string) {
	if text == "" {
		a.status.Hide()
		return
	}
	a.status.SetText(text)
	a.status.Show()
}

// show lays out the switch's state, the proposals and the grants.
func (a *appsTab) show(apps []localclient.App, props []approval.Proposal, on bool) {
	if on {
		a.approval.Hide()
	} else {
		a.approval.SetText("\"Approve each app\" is off (Settings): any program of yours can use every connection without asking. " +
			"The decisions below take effect again when it is on.")
		a.approval.Show()
	}
	a.showProposals(props)
	a.rows = a.rows[:0]
	objs := make([]fyne.CanvasObject, 0, len(apps)+1)
	for _, g := range apps {
		r := a.newGrantRow(g)
		a.rows = append(a.rows, r)
		objs = append(objs, r.box)
	}
	if len(objs) == 0 {
		objs = append(objs, a.empty)
	}
	a.grants.Objects = objs
	a.grants.Refresh()
}

// showProposals lists the proposals, or says why they cannot be confirmed
// in this window.
func (a *appsTab) showProposals(props []approval.Proposal) {
	a.props = a.props[:0]
	var objs []fyne.CanvasObject
	if a.u.opts.Approver == nil {
		l := widget.NewLabel("This window is attached to a tokentray agent that runs in another process (tokentray agent), " +
			"so it cannot see or confirm what tokentray approve proposes, and cannot answer an app's request: " +
			"only the window of the tray app that runs the agent itself can. You can still revoke decisions here.")
		l.Wrapping = fyne.TextWrapWord
		objs = append(objs, l)
	}
	for _, p := range props {
		r := a.newProposalRow(p)
		a.props = append(a.props, r)
		objs = append(objs, r.box)
	}
	a.proposals.Objects = objs
	a.proposals.Refresh()
}

func (a *appsTab) newProposalRow(p approval.Proposal) *proposalRow {
	r := &proposalRow{p: p}
	what, conn := "Program "+p.Exe, "Connection: none named, you pick one when you approve"
	if p.Script != "" {
		what = "Script " + p.Script
	}
	if p.Connection != "" {
		conn = "Connection " + a.connText(p.Connection)
	}
	r.text = widget.NewLabel(what + "\n" + conn + "\nProposed " + whenText(p.Created, a.u.now()) + " with tokentray approve")
	r.text.Wrapping = fyne.TextWrapWord
	r.approve = widget.NewButtonWithIcon("Approve…", theme.ConfirmIcon(), func() { a.confirmProposal(p) })
	r.approve.Importance = widget.HighImportance
	r.dismiss = widget.NewButton("Dismiss", func() { a.dismiss(r) })
	title := widget.NewLabelWithStyle("Waiting for you: "+filepath.Base(proposalPath(p)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.box = widget.NewCard("", "", container.NewVBox(title, r.text, container.NewHBox(r.approve, r.dismiss)))
	return r
}

// proposalPath is the path a proposal names.
func proposalPath(p approval.Proposal) string { return p.Exe + p.Script }

func (a *appsTab) newGrantRow(g localclient.App) *grantRow {
	r := &grantRow{app: g}
	decision := "always allowed"
	if g.Decision == string(approval.Deny) {
		decision = "always denied"
	}
	r.title = widget.NewLabelWithStyle(g.App+": "+decision, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	if g.Decision == string(approval.Deny) {
		r.title.Importance = widget.DangerImportance
	}
	r.detail = widget.NewLabel(grantDetail(g, a.connText(g.Connection), a.u.now()))
	r.detail.Wrapping = fyne.TextWrapWord
	r.revoke = widget.NewButtonWithIcon("Revoke…", theme.DeleteIcon(), func() { a.confirmRevoke(g) })
	r.box = widget.NewCard("", "", container.NewVBox(r.title, r.detail, container.NewHBox(r.revoke)))
	return r
}

// grantDetail is what a grant row says under its title: the path, the
// connection, when it was decided and used, and when a terminal's grant ends.
func grantDetail(g localclient.App, conn string, now time.Time) string {
	s := ""
	switch {
	case g.Script != "":
		s = "Script " + g.Script + ", run by " + g.Exe + "\n"
	case g.Exe != "":
		s = "Program " + g.Exe + "\n"
	}
	s += "Connection " + conn + "\n"
	s += "Decided " + whenText(g.Created, now)
	switch {
	case g.Uses == 0:
		s += " · not used since"
	case g.Uses == 1:
		s += " · used once, " + whenText(g.LastUsed, now)
	default:
		s += fmt.Sprintf(" · used %d times, last %s", g.Uses, whenText(g.LastUsed, now))
	}
	if !g.Expires.IsZero() {
		s += "\nEnds " + whenText(g.Expires, now) + ", or when the screen locks"
	}
	return s
}

// whenText says a moment as a list shows it: "today 14:03", "2 Dec 14:03",
// "2 Dec 2025 14:03".
func whenText(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	t = t.In(now.Location())
	switch {
	case sameDay(t, now):
		return "today " + t.Format("15:04")
	case sameDay(t, now.AddDate(0, 0, 1)):
		// A terminal's grant made in the evening ends after midnight.
		return "tomorrow " + t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan 15:04")
	}
	return t.Format("2 Jan 2006 15:04")
}

func sameDay(a, b time.Time) bool {
	return a.YearDay() == b.YearDay() && a.Year() == b.Year()
}

// connText names a connection by its label and id, as scripts name it.
func (a *appsTab) connText(id string) string {
	if c, ok := a.u.connection(id); ok && c.Label != "" {
		return c.Label + " (" + id + ")"
	}
	return id + " (no longer connected)"
}

// appDialog is a question the tab asks before acting, with its buttons
// reachable by tests.
type appDialog struct {
	d       dialog.Dialog
	text    *widget.Label
	pick    *widget.Select // the connection, when the proposal named none
	confirm *widget.Button
	cancel  *widget.Button
}

func (a *appsTab) newDialog(title, text, confirm string, content ...fyne.CanvasObject) *appDialog {
	d := &appDialog{text: widget.NewLabel(text)}
	d.text.Wrapping = fyne.TextWrapWord
	d.cancel = widget.NewButton("Cancel", func() { d.d.Hide() })
	d.confirm = widget.NewButton(confirm, nil)
	body := container.NewVBox(append([]fyne.CanvasObject{d.text}, content...)...)
	d.d = dialog.NewCustomWithoutButtons(title, container.NewBorder(nil, container.NewHBox(d.cancel, d.confirm), nil, nil, body), a.u.win.w)
	d.d.Resize(fyne.NewSize(520, 280))
	return d
}

// confirmRevoke asks, then revokes grant g and reloads the list.
func (a *appsTab) confirmRevoke(g localclient.App) *appDialog {
	after := "It will be asked again the next time it wants the keys."
	if g.Decision == string(approval.Deny) {
		after = "It will be asked about again instead of being refused."
	}
	d := a.newDialog("Revoke "+g.App+"?",
		fmt.Sprintf("%s will no longer have your decision for %s. %s", g.App, a.connText(g.Connection), after), "Revoke")
	d.confirm.Importance = widget.DangerImportance
	d.confirm.OnTapped = func() {
		d.d.Hide()
		a.u.call(func(ctx context.Context) error { return a.u.client.RevokeApp(ctx, g.ID) }, func(err error) {
			if err != nil {
				a.say("Not revoked: " + a.u.say(err, ""))
			} else {
				a.say(g.App + " is revoked for " + a.connText(g.Connection) + ".")
			}
			a.reload()
		})
	}
	d.d.Show()
	return d
}

// confirmProposal asks, naming the path and the connection plainly, then
// grants. With no connection proposed the human picks one first.
func (a *appsTab) confirmProposal(p approval.Proposal) *appDialog {
	ap := a.u.opts.Approver
	if ap == nil {
		return nil
	}
	path := proposalPath(p)
	conn := p.Connection
	text := func() string {
		if conn == "" {
			return "Pick the connection to give " + path + ".\n\nNothing is granted until you approve."
		}
		return "This gives the program at " + path + " the keys of " + a.connText(conn) + ": " +
			"whenever it runs, it may read them and use them, and place orders where the connection can trade, without asking you. " +
			"If the file changes, tokentray asks again.\n\nApprove only a program you know: " +
			"a proposal can come from any program of yours."
	}
	var d *appDialog
	var pick *widget.Select
	if conn == "" {
		var ids, names []string
		for _, c := range a.u.conns {
			ids, names = append(ids, c.ID), append(names, a.connText(c.ID))
		}
		pick = widget.NewSelect(names, func(string) {
			conn = ids[pick.SelectedIndex()]
			d.text.SetText(text())
			d.confirm.Enable()
		})
		pick.PlaceHolder = "Pick a connection"
	}
	if pick != nil {
		d = a.newDialog("Approve "+filepath.Base(path)+"?", text(), "Approve", pick)
		d.pick = pick
		d.confirm.Disable()
	} else {
		d = a.newDialog("Approve "+filepath.Base(path)+"?", text(), "Approve")
	}
	d.confirm.Importance = widget.HighImportance
	d.confirm.OnTapped = func() {
		if conn == "" {
			return
		}
		d.d.Hide()
		a.u.confirmHuman(fmt.Sprintf("Always allow %s to use the connection %s", path, a.connText(conn)), func(err error) {
			if err != nil {
				a.u.log.Warn("the confirmation of a proposal failed; nothing granted", "err", err)
				a.say("Not confirmed, so nothing was granted: " + err.Error())
				return
			}
			var g approval.Grant
			a.u.call(func(context.Context) (err error) {
				g, err = ap.ConfirmProposal(p.ID, conn)
				return err
			}, func(err error) {
				if err != nil {
					a.u.log.Warn("confirm a proposal", "err", err)
					a.say("Not approved: " + lastPart(err.Error()) + ".")
				} else {
					a.say(g.App + " may now use " + a.connText(g.Connection) + ".")
				}
				a.reload()
			})
		})
	}
	d.d.Show()
	return d
}

// dismiss drops a proposal: nothing is granted.
func (a *appsTab) dismiss(r *proposalRow) {
	ap := a.u.opts.Approver
	if ap == nil {
		return
	}
	r.dismiss.Disable()
	a.u.call(func(context.Context) error { return ap.DismissProposal(r.p.ID) }, func(err error) {
		if err != nil {
			a.u.log.Warn("dismiss a proposal", "err", err)
			a.say("Not dismissed: " + lastPart(err.Error()) + ".")
		}
		a.reload()
	})
}

// newAppNotesKey is the preference that turns the new-app notification on
// or off; it is on unless the trader turned it off in Settings.
const newAppNotesKey = "notify_new_trading_app"

// newAppNotes reports whether the trader wants the new-app notification.
func (u *ui) newAppNotes() bool { return u.app.Preferences().BoolWithFallback(newAppNotesKey, true) }

// notifyNewApp tells the desktop, once per app × connection while tokentray
// runs, that an app began to use a connection that can place orders (its
// granted scopes include trade): a human answered Always or Allow once, or
// confirmed a proposal. Uses of a grant and other connections stay quiet.
func (a *appsTab) notifyNewApp(act localclient.Activity) {
	if act.Method != string(approval.EventGranted) && act.Method != string(approval.EventAllowedOnce) || !a.u.newAppNotes() {
		return
	}
	c, ok := a.u.connection(act.Connection)
	if !ok {
		return
	}
	n, ok := newAppNote(act, c)
	key := act.Connection + "\x00" + act.Exe
	if !ok || a.told[key] {
		return
	}
	if a.told == nil {
		a.told = map[string]bool{}
	}
	a.told[key] = true
	a.u.app.SendNotification(fyne.NewNotification(n.Title, n.Body))
}

// newAppNote is the notification for an app's first use of conn, if conn
// can place orders.
func newAppNote(act localclient.Activity, conn localclient.Connection) (note, bool) {
	if !slices.Contains(conn.ScopesGranted, "trade") {
		return note{}, false
	}
	name, label := act.Exe, conn.Label
	if name == "" {
		name = "An app"
	}
	if label == "" {
		label = conn.ID
	}
	if act.Method == string(approval.EventAllowedOnce) {
		return note{"New app on a trading connection",
			name + " was allowed once to use " + label + ", which can place orders."}, true
	}
	return note{"New app can place orders",
		name + " can now place orders on " + label + ". Not you? Revoke it in tokentray's Apps tab."}, true
}
