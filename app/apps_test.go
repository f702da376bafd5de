package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
)

// startWorld is startAgent, returning the whole simulated world: its
// agent is in this process, so a test can grant apps (as the tray's window
// does) and take its Approver.
func startWorld(t *testing.T) *devworld.World {
	t.Helper()
	w, err := devworld.Start(context.Background(), devworld.Options{
		Stack: devstack.Options{Approval: fakeexchange.AutoApprove},
		Agent: agentd.Options{Open: devstack.Browser, Version: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// appsUI is the window on w's agent, following its events, with ap as its
// Approver (nil: attached to an agent in another process), a connection
// with the scopes given, and the window shown on the Apps tab.
func appsUI(t *testing.T, w *devworld.World, ap Approver, scopes ...string) (*ui, fyneThread, localclient.Connection) {
	t.Helper()
	u, q := newTestUI(t, w.Client)
	u.opts.Approver = ap
	startBridge(t, u, q)
	conn := connect(t, u, q, w.Client, scopes...)
	u.win.show()
	u.win.tabs.SelectIndex(slices.IndexFunc(u.win.tabs.Items, func(ti *container.TabItem) bool { return ti.Text == "Apps" }))
	q.until(t, "the Apps tab loaded", func() bool { return !u.win.apps.loading })
	return u, q, conn
}

// binary and terminal are apps as appid names them; the tests grant them
// through the agent, as the tray's window does.
var (
	binary   = appid.App{Kind: appid.Binary, Key: "exe:/usr/bin/curl", Name: "curl", Exe: "/usr/bin/curl"}
	denied   = appid.App{Kind: appid.Binary, Key: "exe:/opt/bad/tool", Name: "tool", Exe: "/opt/bad/tool"}
	terminal = appid.App{Kind: appid.Terminal, Key: "terminal:/dev/pts/3", Name: "interactive terminal"}
)

// rowFor returns the row of the grant for app, or nil.
func rowFor(a *appsTab, app string) *grantRow {
	for _, r := range a.rows {
		if r.app.App == app {
			return r
		}
	}
	return nil
}

// overlayButton taps the button with text in the dialog on top of u's window.
func overlayButton(t *testing.T, u *ui, text string) {
	t.Helper()
	top := u.win.w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog shows to tap %q in", text)
	}
	b := findButton(top, text)
	if b == nil {
		t.Fatalf("the dialog has no %q button", text)
	}
	test.Tap(b)
}

func TestAppsTabListsGrantsLiveAndRevokesAfterAsking(t *testing.T) {
	w := startWorld(t)
	u, q, conn := appsUI(t, w, nil, "profile", "trade")
	a := u.win.apps
	if len(a.rows) != 0 || len(a.grants.Objects) != 1 || a.grants.Objects[0] != a.empty {
		t.Fatalf("with no grant the tab shows %d rows, %v; want the empty text", len(a.rows), a.grants.Objects)
	}
	for _, want := range []string{"Approve each app", "Allow once, Always or Deny", "tokentray approve"} {
		if !strings.Contains(a.empty.Text, want) {
			t.Fatalf("the empty text does not say %q:\n%s", want, a.empty.Text)
		}
	}
	if !a.approval.Visible() || !strings.Contains(a.approval.Text, "is off") {
		t.Fatalf("with approval off the tab says %q (shown %v)", a.approval.Text, a.approval.Visible())
	}

	// Grants made while the tab shows arrive with their activity events.
	agent := w.Agent.Agent
	for _, g := range []struct {
		app appid.App
		d   approval.Decision
	}{{binary, approval.Always}, {denied, approval.Deny}, {terminal, approval.Always}} {
		if _, err := agent.GrantApp(g.app, conn.ID, g.d); err != nil {
			t.Fatal(err)
		}
	}
	q.until(t, "three rows", func() bool { return len(a.rows) == 3 })
	curl := rowFor(a, "curl")
	if curl == nil || !strings.Contains(curl.title.Text, "always allowed") {
		t.Fatalf("curl's row: %+v", curl)
	}
	for _, want := range []string{"Program /usr/bin/curl", conn.Label + " (" + conn.ID + ")", "Decided today", "not used since"} {
		if !strings.Contains(curl.detail.Text, want) {
			t.Fatalf("curl's row does not say %q:\n%s", want, curl.detail.Text)
		}
	}
	if r := rowFor(a, "tool"); r == nil || !strings.Contains(r.title.Text, "always denied") {
		t.Fatalf("the denied tool's row: %+v", r)
	}
	// The end is a clock time (today or tomorrow: the test may run late in the day).
	if r := rowFor(a, "interactive terminal"); r == nil || r.app.Expires.IsZero() ||
		!strings.Contains(r.detail.Text, "Ends ") || !strings.Contains(r.detail.Text, r.app.Expires.Local().Format("15:04")+", or when the screen locks") {
		t.Fatalf("the terminal's row does not say when its grant ends: %+v", r)
	}

	// Revoke asks; Cancel keeps the grant, Revoke removes it.
	test.Tap(curl.revoke)
	if top := u.win.w.Canvas().Overlays().Top(); top == nil {
		t.Fatal("Revoke did not ask")
	}
	overlayButton(t, u, "Cancel")
	if apps, err := w.Client.Apps(context.Background()); err != nil || len(apps) != 3 {
		t.Fatalf("after Cancel the agent has %d grants (%v), want 3", len(apps), err)
	}
	test.Tap(curl.revoke)
	overlayButton(t, u, "Revoke")
	q.until(t, "curl's row gone", func() bool { return rowFor(a, "curl") == nil && len(a.rows) == 2 })
	apps, err := w.Client.Apps(context.Background())
	if err != nil || len(apps) != 2 || slices.ContainsFunc(apps, func(g localclient.App) bool { return g.App == "curl" }) {
		t.Fatalf("after Revoke the agent has %v (%v), want curl gone", apps, err)
	}
}

func TestAppsTabHiddenReloadsWhenShown(t *testing.T) {
	w := startWorld(t)
	u, q, conn := appsUI(t, w, nil, "profile")
	a := u.win.apps
	u.win.tabs.SelectIndex(0)
	if _, err := w.Agent.Agent.GrantApp(binary, conn.ID, approval.Always); err != nil {
		t.Fatal(err)
	}
	q.until(t, "the grant's event", func() bool { return a.stale })
	if a.loading || len(a.rows) != 0 {
		t.Fatal("the hidden tab reloaded on an event")
	}
	u.win.tabs.SelectIndex(slices.IndexFunc(u.win.tabs.Items, func(ti *container.TabItem) bool { return ti.Text == "Apps" }))
	q.until(t, "the row", func() bool { return len(a.rows) == 1 })
}

// realApprover is the agent's own Approver in this process (what tray.go
// hands Run), or a skip where apps cannot be identified.
func realApprover(t *testing.T, w *devworld.World) Approver {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("skipped: apps are identified on Linux only")
	}
	return w.Agent.Approver()
}

// script writes a shell script and returns its path.
func script(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho hello\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

// proposeBot proposes a new script, bot.sh, for conn and runs the UI until
// the apps tab lists the proposal; it returns the script's path.
func proposeBot(t *testing.T, w *devworld.World, q fyneThread, a *appsTab, conn localclient.Connection) string {
	t.Helper()
	bot := script(t, "bot.sh")
	if _, err := w.Client.ProposeApp(context.Background(), localclient.ProposalRequest{Script: bot, Connection: conn.ID}); err != nil {
		t.Fatal(err)
	}
	q.until(t, "the proposal", func() bool { return len(a.props) == 1 })
	return bot
}

func TestProposalsConfirmedAndDismissedInTheWindow(t *testing.T) {
	w := startWorld(t)
	ap := realApprover(t, w)
	u, q, conn := appsUI(t, w, ap, "profile", "trade")
	a := u.win.apps
	ctx := context.Background()

	// A proposal naming the connection: the dialog says what it grants;
	// Cancel grants nothing, Approve grants exactly that.
	bot := proposeBot(t, w, q, a, conn)
	d := a.confirmProposal(a.props[0].p)
	for _, want := range []string{"program at " + bot, "keys of " + conn.Label, "place orders", "without asking", "any program of yours"} {
		if !strings.Contains(d.text.Text, want) {
			t.Fatalf("the confirmation does not say %q:\n%s", want, d.text.Text)
		}
	}
	test.Tap(d.cancel)
	if apps, _ := w.Client.Apps(ctx); len(apps) != 0 || len(ap.Proposals()) != 1 {
		t.Fatalf("after Cancel: %d grants, %d proposals; want none and the proposal", len(apps), len(ap.Proposals()))
	}
	test.Tap(a.props[0].approve)
	overlayButton(t, u, "Approve")
	// The row may come first from the grant's own event; the tab says the
	// result when the call returns.
	q.until(t, "the grant's row and the result", func() bool {
		return len(a.rows) == 1 && len(a.props) == 0 && a.status.Text != ""
	})
	apps, err := w.Client.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].Script != bot || apps[0].Connection != conn.ID || apps[0].Decision != "always" {
		t.Fatalf("after Approve the agent has %+v (%v), want bot.sh always on %s", apps, err, conn.ID)
	}
	if !strings.Contains(a.status.Text, "may now use") {
		t.Fatalf("after Approve the tab says %q", a.status.Text)
	}

	// A proposal naming no connection: Approve waits for a pick.
	other := script(t, "other.sh")
	if _, err := w.Client.ProposeApp(ctx, localclient.ProposalRequest{Script: other}); err != nil {
		t.Fatal(err)
	}
	q.until(t, "the second proposal", func() bool { return len(a.props) == 1 })
	if !strings.Contains(a.props[0].text.Text, "you pick one") {
		t.Fatalf("a proposal without a connection says %q", a.props[0].text.Text)
	}
	d = a.confirmProposal(a.props[0].p)
	if d.pick == nil || !d.confirm.Disabled() {
		t.Fatal("with no connection proposed, Approve is not held until one is picked")
	}
	d.pick.SetSelectedIndex(0)
	if d.confirm.Disabled() || !strings.Contains(d.text.Text, "program at "+other) || !strings.Contains(d.text.Text, conn.ID) {
		t.Fatalf("after the pick: Approve disabled %v, text %q", d.confirm.Disabled(), d.text.Text)
	}
	test.Tap(d.confirm)
	q.until(t, "the second grant", func() bool { return len(a.rows) == 2 && len(a.props) == 0 })
	if apps, _ := w.Client.Apps(ctx); !slices.ContainsFunc(apps, func(g localclient.App) bool { return g.Script == other && g.Connection == conn.ID }) {
		t.Fatalf("the picked connection was not granted: %+v", apps)
	}

	// Dismiss drops a proposal and grants nothing.
	if _, err := w.Client.ProposeApp(ctx, localclient.ProposalRequest{Script: script(t, "third.sh"), Connection: conn.ID}); err != nil {
		t.Fatal(err)
	}
	q.until(t, "the third proposal", func() bool { return len(a.props) == 1 })
	test.Tap(a.props[0].dismiss)
	q.until(t, "the proposal gone", func() bool { return len(a.props) == 0 && !a.loading })
	if apps, _ := w.Client.Apps(ctx); len(apps) != 2 || len(ap.Proposals()) != 0 {
		t.Fatalf("after Dismiss: %d grants, %d proposals; want 2 and none", len(apps), len(ap.Proposals()))
	}
}

func TestAttachedWindowCannotApproveOrSwitch(t *testing.T) {
	w := startWorld(t)
	if err := w.Agent.Agent.SetApproveApps(true); err != nil {
		t.Fatal(err)
	}
	u, q, conn := appsUI(t, w, nil, "profile")
	a := u.win.apps
	if _, err := w.Client.ProposeApp(context.Background(), localclient.ProposalRequest{Script: script(t, "bot.sh"), Connection: conn.ID}); err != nil && runtime.GOOS == "linux" {
		t.Fatal(err)
	}
	a.reload()
	q.until(t, "the reload", func() bool { return !a.loading })
	if len(a.props) != 0 || findButton(a.proposals, "Approve…") != nil {
		t.Fatal("a window attached to another agent offers to approve a proposal")
	}
	if len(a.proposals.Objects) != 1 || !strings.Contains(a.proposals.Objects[0].(*widget.Label).Text, "cannot see or confirm") {
		t.Fatalf("the attached window does not say why it cannot confirm proposals: %v", a.proposals.Objects)
	}

	s := u.win.settings
	s.reload()
	q.until(t, "the settings", func() bool { return s.approve.Checked })
	if !s.approve.Disabled() || !s.approveWhy.Visible() || !strings.Contains(s.approveWhy.Text, "only the window of the tray app that runs the agent") {
		t.Fatalf("attached: the switch is disabled %v, the reason shown %v: %q", s.approve.Disabled(), s.approveWhy.Visible(), s.approveWhy.Text)
	}
	test.Tap(s.approve)
	if !s.approve.Checked || !w.Agent.Agent.ApproveApps() {
		t.Fatal("the disabled switch turned approval off")
	}
}

func TestApproveSwitchAsksBeforeTurningOff(t *testing.T) {
	w := startWorld(t)
	ap := w.Agent.Approver()
	if err := ap.SetApproveApps(true); err != nil {
		t.Fatal(err)
	}
	u, q := newTestUI(t, w.Client)
	u.opts.Approver = ap
	u.win.show()
	s := u.win.settings
	s.reload()
	q.until(t, "the switch", func() bool { return s.approve.Checked })
	if s.approve.Disabled() || s.approveWhy.Visible() {
		t.Fatal("the switch is disabled in the window of the agent's own process")
	}

	test.Tap(s.approve)
	if !s.approve.Checked || !ap.ApproveApps() {
		t.Fatal("the switch turned off before asking")
	}
	top := u.win.w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("turning approval off did not ask")
	}
	overlayButton(t, u, "Keep it on")
	if !s.approve.Checked || !ap.ApproveApps() {
		t.Fatal("Keep it on turned approval off")
	}

	test.Tap(s.approve)
	overlayButton(t, u, "Turn off")
	q.until(t, "approval off", func() bool { return !ap.ApproveApps() && !s.approve.Checked && !s.approve.Disabled() })
	if st, err := w.Client.Settings(context.Background()); err != nil || st.ApproveApps {
		t.Fatalf("the agent's settings say approve_apps %v (%v) after Turn off", st.ApproveApps, err)
	}

	test.Tap(s.approve) // on again: no question
	q.until(t, "approval on", func() bool { return ap.ApproveApps() && s.approve.Checked })
}

func TestNewAppNotificationOncePerAppOnTradingConnections(t *testing.T) {
	u, _ := newTestUI(t, nil)
	trade := localclient.Connection{ID: "ex-1", Label: "Ann's EXchange", ScopesGranted: []string{"profile", "trade"}}
	profile := localclient.Connection{ID: "ex-2", Label: "Ann's viewer", ScopesGranted: []string{"profile", "history"}}
	u.setConns([]localclient.Connection{trade, profile})
	approvalEvent := func(method, app, conn string) localclient.Event {
		return localclient.Event{Type: "activity", Activity: &localclient.Activity{
			Time: t0, Exe: app, Connection: conn, Op: "approval", Method: method}}
	}
	granted := fyne.NewNotification("New app can place orders",
		"python3 bot.py can now place orders on Ann's EXchange. Not you? Revoke it in tokentray's Apps tab.")
	steps := []struct {
		name string
		ev   localclient.Event
		want *fyne.Notification
	}{
		{"a use of a grant", approvalEvent("used", "python3 bot.py", trade.ID), nil},
		{"granted on a connection that cannot trade", approvalEvent("granted", "python3 bot.py", profile.ID), nil},
		{"granted on a trading connection", approvalEvent("granted", "python3 bot.py", trade.ID), granted},
		{"the same app allowed once after", approvalEvent("allowed_once", "python3 bot.py", trade.ID), nil},
		{"the same app granted again", approvalEvent("granted", "python3 bot.py", trade.ID), nil},
		{"a denial", approvalEvent("denied", "curl", trade.ID), nil},
		{"another app allowed once", approvalEvent("allowed_once", "curl", trade.ID),
			fyne.NewNotification("New app on a trading connection", "curl was allowed once to use Ann's EXchange, which can place orders.")},
		{"a sign, not an approval", localclient.Event{Type: "activity", Activity: &localclient.Activity{
			Time: t0, Exe: "/usr/bin/perl", Connection: trade.ID, Op: "sign", Method: "granted"}}, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			test.AssertNotificationSent(t, st.want, func() { u.apply(st.ev) })
		})
	}

	u.app.Preferences().SetBool(newAppNotesKey, false)
	test.AssertNotificationSent(t, nil, func() { u.apply(approvalEvent("granted", "node app.js", trade.ID)) })
}

func TestNewAppSwitchIsKeptInPreferences(t *testing.T) {
	u, _ := newTestUI(t, nil)
	s := u.win.settings
	if !s.newApps.Checked || !u.newAppNotes() {
		t.Fatal("the new-app notification is not on by default")
	}
	test.Tap(s.newApps)
	if u.app.Preferences().BoolWithFallback(newAppNotesKey, true) {
		t.Fatal("unticking did not store the choice")
	}
	if fresh := newSettingsTab(u); fresh.build() != nil && fresh.newApps.Checked {
		t.Fatal("a new Settings tab does not read the stored choice")
	}
}

func TestGrantDetailAndWhen(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		app  localclient.App
		want string
	}{
		{"a script used often", localclient.App{Exe: "/usr/bin/python3", Script: "/home/ann/bot.py", Created: now.Add(-26 * time.Hour),
			LastUsed: now.Add(-time.Hour), Uses: 12},
			"Script /home/ann/bot.py, run by /usr/bin/python3\nConnection C\nDecided 1 Dec 13:00 · used 12 times, last today 14:00"},
		{"a binary used once", localclient.App{Exe: "/usr/bin/curl", Created: now.AddDate(-1, 0, 0), LastUsed: now, Uses: 1},
			"Program /usr/bin/curl\nConnection C\nDecided 2 Dec 2025 15:00 · used once, today 15:00"},
		{"a terminal", localclient.App{Created: now, Expires: now.Add(4 * time.Hour)},
			"Connection C\nDecided today 15:00 · not used since\nEnds today 19:00, or when the screen locks"},
		{"a terminal granted late in the evening", localclient.App{Created: now.Add(7 * time.Hour), Expires: now.Add(11 * time.Hour)},
			"Connection C\nDecided today 22:00 · not used since\nEnds tomorrow 02:00, or when the screen locks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := grantDetail(tt.app, "C", now); got != tt.want {
				t.Fatalf("grantDetail = %q, want %q", got, tt.want)
			}
		})
	}
	if got := whenText(time.Time{}, now); got != "never" {
		t.Fatalf("whenText(zero) = %q, want never", got)
	}
}

// TestWideningAsksTheSystemFirst: with a system confirmation set (polkit in
// the tray app), approving a proposal and switching approval off ask it
// first, as an "Always" does, and a refusal changes nothing.
func TestWideningAsksTheSystemFirst(t *testing.T) {
	w := startWorld(t)
	ap := realApprover(t, w)
	if err := ap.SetApproveApps(true); err != nil {
		t.Fatal(err)
	}
	u, q, conn := appsUI(t, w, ap, "profile", "trade")
	var asked []string
	refuse := true
	u.opts.ConfirmAlways = func(_ context.Context, what string) error {
		asked = append(asked, what) // read on the test's thread only after q.until
		if refuse {
			return errors.New("the password was not given")
		}
		return nil
	}
	a := u.win.apps
	ctx := context.Background()

	bot := proposeBot(t, w, q, a, conn)
	test.Tap(a.props[0].approve)
	overlayButton(t, u, "Approve")
	q.until(t, "the refusal shown", func() bool { return strings.Contains(a.status.Text, "Not confirmed") })
	if apps, _ := w.Client.Apps(ctx); len(apps) != 0 || len(ap.Proposals()) != 1 {
		t.Fatalf("a refused confirmation granted: %d grants, %d proposals", len(apps), len(ap.Proposals()))
	}
	if len(asked) != 1 || !strings.Contains(asked[0], bot) {
		t.Fatalf("the system was asked %q, want once about %s", asked, bot)
	}

	s := u.win.settings
	s.reload()
	q.until(t, "the switch", func() bool { return s.approve.Checked && !s.approve.Disabled() })
	test.Tap(s.approve)
	overlayButton(t, u, "Turn off")
	q.until(t, "the refusal in Settings", func() bool { return strings.Contains(s.status.Text, "stays on") })
	if !ap.ApproveApps() || !s.approve.Checked {
		t.Fatal("a refused confirmation turned approval off")
	}

	refuse = false
	test.Tap(a.props[0].approve)
	overlayButton(t, u, "Approve")
	q.until(t, "the grant", func() bool { return len(a.rows) == 1 && len(a.props) == 0 })
	test.Tap(s.approve)
	overlayButton(t, u, "Turn off")
	q.until(t, "approval off", func() bool { return !ap.ApproveApps() && !s.approve.Checked })
	if len(asked) != 4 {
		t.Fatalf("the system was asked %d times, want 4: %q", len(asked), asked)
	}
}
