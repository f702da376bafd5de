package app

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/localclient"
)

// brokerApprover is the real approval.Broker as the window's Approver; the
// proposal calls the prompt does not use are refused.
type brokerApprover struct{ *approval.Broker }

func (brokerApprover) ConfirmProposal(string, string) (approval.Grant, error) {
	return approval.Grant{}, errors.New("not in this test")
}
func (brokerApprover) ApproveApps() bool         { return true }
func (brokerApprover) SetApproveApps(bool) error { return errors.New("not in this test") }

// promptRig is the app on the test driver answering a real broker.
type promptRig struct {
	t      *testing.T
	u      *ui
	q      fyneThread
	b      *approval.Broker
	timers *timers
	notes  chan *fyne.Notification
}

// newPromptRig makes the UI with a connection "exchange-1" and a real broker
// as its Approver, subscribed; confirm is its ConfirmAlways.
func newPromptRig(t *testing.T, confirm ConfirmFunc) *promptRig {
	t.Helper()
	b, err := approval.New(approval.Config{Timeout: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, q := newTestUI(t, nil)
	r := &promptRig{t: t, u: u, q: q, b: b, timers: fakeTimers(u), notes: make(chan *fyne.Notification, 16)}
	u.opts.Approver, u.opts.ConfirmAlways = brokerApprover{b}, confirm
	u.prompts = newPrompter(u, u.opts.Approver)
	u.prompts.send = func(n *fyne.Notification) { r.notes <- n }
	u.loaded = true
	u.setConns([]localclient.Connection{{ID: "exchange-1", Label: "Ann's EXchange", Provider: "exchange", State: localclient.StateConnected, ExpiresAt: time.Now().Add(time.Hour)}})
	u.prompts.start()
	t.Cleanup(func() {
		u.prompts.stop()
		if u.prompts.win != nil {
			u.prompts.win.close()
		}
	})
	q.until(t, "the first Pending", func() bool { return u.prompts.pending != nil })
	return r
}

var botV1 = appid.App{
	Kind: appid.Script, Name: "python3 bot.py", Exe: "/usr/bin/python3",
	Script: "/home/ann/bot.py", ScriptSHA256: strings.Repeat("ab", 32),
	Args: []string{"python3", "bot.py", "--market", "btc usd"}, Cwd: "/home/ann/trading", PID: 4242,
	Parents: []appid.Process{{PID: 4000, Exe: "/usr/bin/bash", Args: []string{"bash", "run.sh"}}, {PID: 1, Exe: "/sbin/init", Args: []string{"/sbin/init"}}},
	Key:     appid.ScriptKey("/usr/bin/python3", "", "/home/ann/bot.py", strings.Repeat("ab", 32)),
}

// ask makes a request as app that waits for the tray; the channel gets its
// answer. cancel makes the app give up.
func (r *promptRig) ask(app appid.App) (<-chan error, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	r.t.Cleanup(cancel)
	ch := make(chan error, 1)
	go func() { ch <- r.b.Check(ctx, approval.Request{App: app, Connection: "exchange-1", Op: "token"}) }()
	return ch, cancel
}

// prompt shows the main window, makes a request as app (see ask) and runs
// the UI until its prompt window is open.
func (r *promptRig) prompt(app appid.App) (<-chan error, context.CancelFunc, *promptWindow) {
	r.t.Helper()
	r.u.win.show()
	res, cancel := r.ask(app)
	return res, cancel, r.window()
}

// waitPending runs the UI until it knows of n prompts.
func (r *promptRig) waitPending(n int) {
	r.t.Helper()
	r.q.until(r.t, "the prompts in the UI", func() bool { return len(r.u.prompts.pending) == n })
}

// window runs the UI until a prompt window is open and returns it.
func (r *promptRig) window() *promptWindow {
	r.t.Helper()
	r.q.until(r.t, "a prompt window", func() bool { return r.u.prompts.win != nil })
	return r.u.prompts.win
}

// delays returns the prompt delays set and not stopped or fired (the
// window's countdown has timers too).
func (r *promptRig) delays() []*timer {
	var out []*timer
	for _, tm := range r.timers.live() {
		if tm.d == promptDelay {
			out = append(out, tm)
		}
	}
	return out
}

// ready fires the prompt's delay and runs the UI until its buttons work.
func (r *promptRig) ready(pw *promptWindow) {
	r.t.Helper()
	d := r.delays()
	if len(d) != 1 {
		r.t.Fatalf("%d prompt delays pending, want 1", len(d))
	}
	r.timers.mu.Lock()
	d[0].stopped = true
	r.timers.mu.Unlock()
	d[0].f()
	r.q.until(r.t, "the buttons enabled", func() bool { return !pw.deny.Disabled() })
}

// answerOf runs the UI until a request gets its answer.
func (r *promptRig) answerOf(ch <-chan error) error {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-ch:
			return err
		case f := <-r.q:
			f()
		case <-deadline:
			r.t.Fatal("the request got no answer within 10 s")
			return nil
		}
	}
}

// texts lists the text of every label under o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	switch x := o.(type) {
	case *widget.Label:
		out = append(out, x.Text)
	case *fyne.Container:
		for _, c := range x.Objects {
			out = append(out, texts(c)...)
		}
	case *container.Scroll:
		out = append(out, texts(x.Content)...)
	}
	return out
}

func TestPromptShowsWhoAsks(t *testing.T) {
	r := newPromptRig(t, nil)
	bot := botV1
	bot.Args = append(slices.Clone(bot.Args), "--api-secret", "hunter2")
	bot.Parents = append([]appid.Process{{PID: 4100, Exe: "/usr/bin/env", Args: []string{"env", "EXCHANGE_TOKEN=hunter3"}}}, bot.Parents...)
	_, _, pw := r.prompt(bot)
	if got, want := pw.w.Title(), "tokentray: allow python3 bot.py?"; got != want {
		t.Fatalf("title %q, want %q", got, want)
	}
	all := strings.Join(texts(pw.w.Content()), "\n")
	for _, want := range []string{
		"python3 bot.py (script)", "/usr/bin/python3", "/home/ann/bot.py", "sha256 " + strings.Repeat("ab", 32),
		`python3 bot.py --market "btc usd" --api-secret ‹hidden›`, "/home/ann/trading", "pid 4100: env EXCHANGE_TOKEN=‹hidden›",
		"pid 4000: bash run.sh", "pid 1: /sbin/init", "Ann's EXchange (exchange-1)", "(token)", "1 request waiting",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the prompt does not show %q:\n%s", want, all)
		}
	}
	// A secret passed as an argument stays off the screen (appid.ShowArgs).
	if strings.Contains(all, "hunter") {
		t.Errorf("the prompt shows a secret from a command line:\n%s", all)
	}
	if strings.Contains(all, "Changed since last approved") || strings.Contains(all, "only be allowed once") {
		t.Errorf("the prompt warns of what is not so:\n%s", all)
	}
	if !pw.always.Visible() {
		t.Error("Always is hidden for an app that can be granted")
	}
}

func TestPromptButtonsWaitThenFocusDeny(t *testing.T) {
	r := newPromptRig(t, nil)
	res, _, pw := r.prompt(botV1)
	if n := len(r.delays()); n != 1 {
		t.Fatalf("%d timers of %s, want 1", n, promptDelay)
	}
	for _, b := range []*promptButton{pw.once, pw.always, pw.deny} {
		if !b.Disabled() {
			t.Fatalf("%q is enabled before the delay", b.Text)
		}
		test.Tap(b)
	}
	pw.w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	r.q.settle()
	if len(r.b.Pending()) != 1 {
		t.Fatal("a tap or Escape during the delay answered the prompt")
	}
	r.ready(pw)
	for _, b := range []*promptButton{pw.once, pw.always, pw.deny} {
		if b.Disabled() {
			t.Fatalf("%q is still disabled after the delay", b.Text)
		}
	}
	if f := pw.w.Canvas().Focused(); f != pw.deny {
		t.Fatalf("focus on %v, want Deny", f)
	}
	// Shift+Tab reaches Always, Tab comes back to Deny (the desktop test
	// answers Always so).
	pw.w.Canvas().FocusPrevious()
	if f := pw.w.Canvas().Focused(); f != pw.always {
		t.Fatalf("Shift+Tab from Deny focuses %v, want Always", f)
	}
	pw.w.Canvas().FocusNext()
	if f := pw.w.Canvas().Focused(); f != pw.deny {
		t.Fatalf("Tab from Always focuses %v, want Deny", f)
	}
	// Return on the focused button presses Deny.
	pw.w.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if err := r.answerOf(res); !errors.Is(err, approval.ErrDenied) {
		t.Fatalf("Return on the focused button: %v, want denied", err)
	}
}

func TestPromptAnswers(t *testing.T) {
	for _, tt := range []struct {
		button   string
		escape   bool
		wantErr  error
		decision approval.Decision // "" for no grant
	}{
		{"Allow once", false, nil, ""},
		{"Always", false, nil, approval.Always},
		{"Deny", false, approval.ErrDenied, approval.Deny},
		{"Escape", true, approval.ErrDenied, approval.Deny},
	} {
		t.Run(tt.button, func(t *testing.T) {
			r := newPromptRig(t, nil)
			res, _, pw := r.prompt(botV1)
			r.ready(pw)
			switch {
			case tt.escape:
				pw.w.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
			default:
				for _, b := range []*promptButton{pw.once, pw.always, pw.deny} {
					if b.Text == tt.button {
						test.Tap(b)
					}
				}
			}
			if err := r.answerOf(res); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("the request got %v, want %v", err, tt.wantErr)
			}
			grants := r.b.Grants()
			switch {
			case tt.decision == "" && len(grants) != 0:
				t.Fatalf("grants %+v, want none", grants)
			case tt.decision != "" && (len(grants) != 1 || grants[0].Decision != tt.decision || grants[0].Key != botV1.Key || grants[0].Connection != "exchange-1"):
				t.Fatalf("grants %+v, want one %s for the bot on exchange-1", grants, tt.decision)
			}
			r.q.until(t, "the prompt window closed", func() bool { return r.u.prompts.win == nil && pw.closed })
		})
	}
}

// confirmer is a ConfirmAlways that answers what the test says.
type confirmer struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (c *confirmer) confirm(ctx context.Context, what string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, what)
	return c.err
}

func (c *confirmer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

func TestPromptAlwaysNeedsConfirmation(t *testing.T) {
	c := &confirmer{err: errors.New("polkit: authentication dismissed")}
	r := newPromptRig(t, c.confirm)
	res, _, pw := r.prompt(botV1)
	r.ready(pw)
	test.Tap(pw.always)
	r.q.until(t, "the failure shown", func() bool { return pw.status.Visible() })
	if !strings.Contains(pw.status.Text, "nothing was granted") || !strings.Contains(pw.status.Text, "authentication dismissed") {
		t.Fatalf("the prompt says %q, want the failure and that nothing was granted", pw.status.Text)
	}
	if c.count() != 1 || !strings.Contains(c.calls[0], "python3 bot.py") || !strings.Contains(c.calls[0], "Ann's EXchange") {
		t.Fatalf("ConfirmAlways calls %q, want one naming the app and the connection", c.calls)
	}
	if g := r.b.Grants(); len(g) != 0 {
		t.Fatalf("a failed confirmation granted %+v", g)
	}
	if len(r.b.Pending()) != 1 || pw.closed || pw.deny.Disabled() || pw.w.Canvas().Focused() != pw.deny {
		t.Fatal("a failed confirmation ended the prompt, left its buttons disabled or the focus off Deny")
	}
	select {
	case err := <-res:
		t.Fatalf("the request got %v after a failed confirmation, want it still waiting", err)
	default:
	}

	// Allow once needs no confirmation; Always confirmed grants.
	c.mu.Lock()
	c.err = nil
	c.mu.Unlock()
	test.Tap(pw.always)
	if err := r.answerOf(res); err != nil {
		t.Fatalf("a confirmed Always: %v", err)
	}
	if g := r.b.Grants(); len(g) != 1 || g[0].Decision != approval.Always || c.count() != 2 {
		t.Fatalf("grants %+v after %d confirmations, want one Always after 2", g, c.count())
	}
}

func TestPromptUnidentifiedAllowsOnceOnly(t *testing.T) {
	r := newPromptRig(t, nil)
	_, _, pw := r.prompt(appid.App{Kind: appid.Unidentified, Name: "python3 -c", Exe: "/usr/bin/python3", Reason: "inline code (-c)", PID: 77})
	all := strings.Join(texts(pw.w.Content()), "\n")
	if !strings.Contains(all, "can only be allowed once") || !strings.Contains(all, "inline code (-c)") {
		t.Fatalf("the prompt does not say the app can only be allowed once, and why:\n%s", all)
	}
	if pw.always.Visible() {
		t.Fatal("Always is offered for an app that cannot be identified")
	}
}

func TestPromptTerminalSaysHowLongAlwaysLasts(t *testing.T) {
	r := newPromptRig(t, nil)
	_, _, pw := r.prompt(appid.App{Kind: appid.Terminal, Name: "interactive terminal", Key: appid.TerminalKey})
	if all := strings.Join(texts(pw.w.Content()), "\n"); !strings.Contains(all, "Always lasts 4 h for an interactive terminal") {
		t.Fatalf("the prompt for a terminal does not say how long Always lasts:\n%s", all)
	}
}

func TestPromptSaysChangedSinceApproved(t *testing.T) {
	r := newPromptRig(t, nil)
	if _, err := r.b.Grant(botV1, "exchange-1", approval.Always); err != nil {
		t.Fatal(err)
	}
	v2 := botV1
	v2.ScriptSHA256 = strings.Repeat("cd", 32)
	v2.Key = appid.ScriptKey(v2.Exe, "", v2.Script, v2.ScriptSHA256)
	_, _, pw := r.prompt(v2)
	if all := strings.Join(texts(pw.w.Content()), "\n"); !strings.Contains(all, "Changed since last approved") {
		t.Fatalf("the prompt for a changed script does not say so:\n%s", all)
	}
}

func TestPromptInBackgroundWaitsBehindBadgeAndMenu(t *testing.T) {
	r := newPromptRig(t, nil)
	if r.u.tray.badge || r.u.tray.menu[0].Action == actPrompts {
		t.Fatal("a badge or a waiting item with nothing waiting")
	}
	// The window is hidden: no prompt window, a badge, a menu item and one
	// notification.
	first, _ := r.ask(botV1)
	r.waitPending(1)
	if r.u.prompts.win != nil {
		t.Fatal("a background request opened a prompt window")
	}
	if !r.u.tray.badge || r.u.tray.menu[0].Label != "1 request waiting…" || r.u.tray.menu[0].Action != actPrompts || !r.u.tray.menu[1].Separator {
		t.Fatalf("badge %v, menu %q; want a badge and “1 request waiting…” first", r.u.tray.badge, labels(r.u.tray.menu, ""))
	}
	select {
	case n := <-r.notes:
		if !strings.Contains(n.Content, "python3 bot.py") || !strings.Contains(n.Content, "Ann's EXchange") {
			t.Fatalf("the notification %q does not name the app and the connection", n.Content)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification for a prompt in the background")
	}

	// An identical request shares the prompt; another app has its own.
	second, _ := r.ask(botV1)
	r.q.until(t, "two requests counted", func() bool { return r.u.prompts.waiting() == 2 })
	curl := appid.App{Kind: appid.Binary, Name: "curl", Exe: "/usr/bin/curl", Key: appid.BinaryKey("/usr/bin/curl", "")}
	third, _ := r.ask(curl)
	r.waitPending(2)
	r.q.settle()
	if got := r.u.tray.menu[0].Label; got != "3 requests waiting…" {
		t.Fatalf("menu item %q, want “3 requests waiting…”", got)
	}
	if n := len(r.notes); n != 1 {
		t.Fatalf("%d more notifications, want 1 (for curl; none for the shared prompt)", n)
	}
	if r.u.prompts.win != nil {
		t.Fatal("a background request opened a prompt window")
	}

	// The menu item opens the oldest; answering it brings the next.
	r.u.run(r.u.tray.menu[0])
	pw := r.window()
	if pw.prompt.Request.App.Name != "python3 bot.py" || !strings.Contains(pw.waiting.Text, "3 requests waiting (2 from this app)") {
		t.Fatalf("the menu opened %q saying %q; want the bot's, 3 waiting, 2 from it", pw.prompt.Request.App.Name, pw.waiting.Text)
	}
	r.ready(pw)
	test.Tap(pw.once)
	for _, ch := range []<-chan error{first, second} {
		if err := r.answerOf(ch); err != nil {
			t.Fatalf("allowed once: %v", err)
		}
	}
	r.q.until(t, "the next prompt", func() bool {
		return r.u.prompts.win != nil && r.u.prompts.win.prompt.Request.App.Name == "curl"
	})
	next := r.u.prompts.win
	if got := r.u.tray.menu[0].Label; got != "1 request waiting…" {
		t.Fatalf("menu item %q, want “1 request waiting…”", got)
	}
	r.ready(next)
	test.Tap(next.deny)
	if err := r.answerOf(third); !errors.Is(err, approval.ErrDenied) {
		t.Fatalf("denied: %v", err)
	}
	r.q.until(t, "the badge gone", func() bool { return !r.u.tray.badge && r.u.prompts.win == nil })
	if r.u.tray.menu[0].Action == actPrompts {
		t.Fatal("the waiting item stayed in the menu")
	}
}

func TestPromptClosesWhenTheRequestLeaves(t *testing.T) {
	r := newPromptRig(t, nil)
	res, cancel, pw := r.prompt(botV1)
	cancel()
	if err := r.answerOf(res); !errors.Is(err, context.Canceled) {
		t.Fatalf("the request that gave up got %v", err)
	}
	r.q.until(t, "the prompt window closed", func() bool { return pw.closed && r.u.prompts.win == nil })
	if r.u.tray.badge || r.u.tray.menu[0].Action == actPrompts {
		t.Fatal("the badge or the waiting item stayed")
	}
	if n := len(r.delays()); n != 0 {
		t.Fatalf("%d prompt delays left running after the prompt closed", n)
	}
}

func TestPromptClosedByTheUserAnswersNothing(t *testing.T) {
	r := newPromptRig(t, nil)
	res, _, pw := r.prompt(botV1)
	pw.closeRequested() // the close intercept: the user put it away
	r.q.settle()
	if r.u.prompts.win != nil || !pw.closed {
		t.Fatal("the prompt window stayed open")
	}
	if len(r.b.Pending()) != 1 || !r.u.tray.badge {
		t.Fatal("closing the prompt window answered it or dropped the badge")
	}
	select {
	case err := <-res:
		t.Fatalf("the request got %v, want it still waiting", err)
	default:
	}
	// It does not come back by itself; the menu brings it back.
	r.ask(appid.App{Kind: appid.Binary, Name: "curl", Exe: "/usr/bin/curl", Key: appid.BinaryKey("/usr/bin/curl", "")})
	r.waitPending(2)
	if w := r.u.prompts.win; w == nil || w.prompt.Request.App.Name != "curl" {
		t.Fatalf("with the window shown, the next new prompt should open, not the put-away one: %+v", w)
	}
	r.u.prompts.win.closeRequested()
	r.u.run(menuEntry{Action: actPrompts})
	if w := r.window(); w.prompt.ID != pw.prompt.ID {
		t.Fatalf("the menu opened %s, want the oldest %s", w.prompt.Request.App.Name, pw.prompt.Request.App.Name)
	}
}

func TestPromptStopUnsubscribes(t *testing.T) {
	r := newPromptRig(t, nil)
	res, _ := r.ask(botV1)
	r.waitPending(1)
	r.u.stop()
	if err := r.answerOf(res); !errors.Is(err, approval.ErrApprovalRequired) {
		t.Fatalf("a request waiting when the tray quit got %v, want approval_required", err)
	}
	if err := r.b.Check(context.Background(), approval.Request{App: botV1, Connection: "exchange-1", Op: "token"}); !errors.Is(err, approval.ErrApprovalRequired) {
		t.Fatalf("a request after the tray quit got %v, want approval_required at once", err)
	}
}

func TestTrayIconBadge(t *testing.T) {
	for _, o := range []overall{overallEmpty, overallOK, overallExpiring, overallAttention} {
		plain, badged := trayIcon(o, false), trayIcon(o, true)
		if plain != trayIcons[o] {
			t.Fatalf("%v: the plain icon is not the state's", o)
		}
		if bytes.Equal(plain.Content(), badged.Content()) {
			t.Fatalf("%v: the badge changed nothing", o)
		}
		img, err := png.Decode(bytes.NewReader(badged.Content()))
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		s := float64(b.Dx())
		x, y := b.Max.X-int(s*0.24), b.Min.Y+int(s*0.24)
		if r, g, bl, _ := img.At(x, y).RGBA(); r>>8 != uint32(badgeColor.R) || g>>8 != uint32(badgeColor.G) || bl>>8 != uint32(badgeColor.B) {
			t.Fatalf("%v: the badge's centre is %v, want %v", o, img.At(x, y), badgeColor)
		}
		if trayIcon(o, true) != badged {
			t.Fatalf("%v: the badged icon is made again", o)
		}
	}
}

func TestPromptOpenSendsNoNotifications(t *testing.T) {
	r := newPromptRig(t, nil)
	_, _, pw := r.prompt(botV1)
	r.ask(appid.App{Kind: appid.Binary, Name: "curl", Exe: "/usr/bin/curl", Key: appid.BinaryKey("/usr/bin/curl", "")})
	r.waitPending(2)
	if r.u.prompts.win != pw || !strings.Contains(pw.waiting.Text, "2 requests waiting") {
		t.Fatalf("the open prompt should stay and count 2 waiting: %q", pw.waiting.Text)
	}
	if n := len(r.notes); n != 0 {
		t.Fatalf("%d notifications while the user was at a prompt, want none", n)
	}
}

// TestSecondLaunchOpensTheWaitingPrompt: launching tokentray again, like
// "Open tokentray", brings up the window and the oldest prompt waiting.
func TestSecondLaunchOpensTheWaitingPrompt(t *testing.T) {
	r := newPromptRig(t, nil)
	ch, _ := r.ask(botV1)
	r.waitPending(1)
	if r.u.prompts.win != nil {
		t.Fatal("a background request opened a prompt window")
	}
	go r.u.showFromOutside()
	r.q.until(t, "the prompt after a second launch", func() bool {
		return r.u.win.visible && r.u.prompts.win != nil && r.u.prompts.win.prompt.Request.App.Name == "python3 bot.py"
	})
	pw := r.u.prompts.win
	r.ready(pw)
	test.Tap(pw.deny)
	if err := r.answerOf(ch); !errors.Is(err, approval.ErrDenied) {
		t.Fatalf("denied: %v", err)
	}
}
