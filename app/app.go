package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/tokentray/tokentray/localclient"
)

// Options configure Run. The zero value is fine for the user's desktop.
type Options struct {
	// Getenv reads the environment (autostart folder); default os.Getenv.
	Getenv func(string) string
	// Executable is the program the autostart entry starts; default
	// os.Executable().
	Executable string
	// RelayURL is shown in Settings; "" says no relay is set.
	RelayURL string
	// ConfigPath is the config.toml where relay_url is set, shown in
	// Settings. The GUI does not write it: the relay is a deployment choice,
	// and changing it means restarting the agent.
	ConfigPath string
	// ShowWindow shows the window at start. Run shows it anyway when there
	// is no tray to reach it from.
	ShowWindow bool
	// NoTray leaves the tray out for good (tests): the window is the only
	// way in, and closing it quits.
	NoTray bool
	// TrayHost follows the desktop's tray host (WatchTrayHost); nil says a
	// host is there for good. While none is, the window is the way in:
	// shown at start, and closing it quits. When one appears, closing the
	// window hides it; when it goes away while the window is hidden, the
	// window is shown.
	TrayHost TrayHostFunc
	// Logger gets the log; default slog.Default().
	Logger *slog.Logger
	// QuitForgets says that quitting ends a memory-only vault (the demo's,
	// or an agent in this process without a keyring): Quit asks first.
	QuitForgets bool
	// Instance, when set, is this process's claim to be the one tray app:
	// Run answers a second launch's "show" by showing the window.
	Instance *Instance
	// Approver is the agent's app approval in this process: the prompts
	// (the tray subscribes at start and asks the human about each app that
	// wants a key, prompt.go), the proposals and the approve_apps switch. It
	// is nil when the tray attached to an agent in another process: then
	// nothing here answers.
	Approver Approver
	// ConfirmAlways, when set, is asked before anything that lets apps at
	// keys without asking: an "Always", a proposal's approval, approval
	// switched off (the system's password or fingerprint prompt, polkit).
	// An error changes nothing.
	ConfirmAlways ConfirmFunc
}

// TrayHostFunc follows the desktop's tray host: it returns whether one is
// there now, then calls changed, from any goroutine, each time that changes,
// until ctx ends.
type TrayHostFunc func(ctx context.Context, changed func(present bool)) bool

// Run runs the tray and the window on a until the user quits, talking to the
// agent through c. It blocks, like fyne.App.Run, and must be called from main.
//
// The tray icon and its menu are set before a.Run: Fyne starts the
// StatusNotifierItem only if a menu was set by then, and a menu set later
// (through fyne.Do) never registers the item. So the menu is set even when
// no tray host is there yet: the item registers when one appears (a panel
// started after tokentray, or restarted). The menu says "Loading…" until
// the agent answers.
func Run(a fyne.App, c *localclient.Client, opts Options) {
	u := newUI(a, c, opts)
	u.start()
	if opts.Instance != nil {
		go opts.Instance.Serve(u.ctx, u.showFromOutside)
	}
	a.Run()
	u.stop()
}

// showFromOutside shows the window for a second launch and returns once it
// is up, or after showWait with the show queued.
func (u *ui) showFromOutside() {
	done := make(chan struct{})
	u.do(func() {
		u.openWindow()
		close(done)
	})
	select {
	case <-done:
	case <-time.After(showWait):
	}
}

// openWindow is the user asking for tokentray ("Open tokentray", a second
// launch): the window, and the oldest approval prompt waiting, if any.
func (u *ui) openWindow() {
	u.win.show()
	if u.prompts != nil {
		u.prompts.openNext(false)
	}
}

// ui is the whole app: the tray, the window and the bridge from the agent.
// Fields below "Fyne thread" are touched only there (inside fyne.Do or a
// widget callback); goroutines reach them through do.
type ui struct {
	app    fyne.App
	client *localclient.Client
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	do     func(func())                                   // runs f on the Fyne thread: fyne.Do
	async  func(func())                                   // runs blocking work off it: go f()
	after  func(time.Duration, func()) (stop func() bool) // time.AfterFunc
	quit   func()                                         // ends the app: fyne.App.Quit
	ctx    context.Context
	cancel context.CancelFunc

	// Fyne thread.
	conns     []localclient.Connection
	providers []localclient.Provider
	win       *mainWindow
	tray      *tray           // nil with NoTray
	hostUp    bool            // a tray host shows the icon: see trayMode
	prompts   *prompter       // nil without an Approver
	agentErr  error           // why the agent cannot be reached, nil when it can
	loaded    bool            // the agent has answered once
	notified  map[string]bool // connection and title → sent, until rearmed (notify)
}

func newUI(a fyne.App, c *localclient.Client, opts Options) *ui {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Executable == "" {
		opts.Executable, _ = os.Executable()
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &ui{
		app: a, client: c, opts: opts, log: opts.Logger, now: time.Now,
		do: fyne.Do, async: func(f func()) { go f() }, quit: a.Quit,
		after: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
		ctx:   ctx, cancel: cancel,
	}
	a.Settings().SetTheme(themeFor(u.loadAppearance()))
	u.win = newMainWindow(u)
	if opts.Approver != nil {
		u.prompts = newPrompter(u, opts.Approver)
	}
	if !opts.NoTray {
		u.tray = newTray(u)
	}
	u.hostUp = true
	if opts.TrayHost != nil {
		u.hostUp = opts.TrayHost(ctx, func(present bool) {
			u.do(func() { u.setTrayHost(present) })
		})
	}
	return u
}

// trayMode reports whether the tray is the way in: there is a tray and a
// host shows it. Then closing the window hides it; else it quits.
func (u *ui) trayMode() bool { return u.tray != nil && u.hostUp }

// setTrayHost follows the tray host appearing or going away. The window
// stays as it is when one appears (the tray's item registers by itself);
// when it goes away while the window is hidden, the window is shown, so
// that tokentray stays within reach.
func (u *ui) setTrayHost(present bool) {
	if present == u.hostUp {
		return
	}
	u.hostUp = present
	u.log.Info("tray host changed", "present", present)
	if !present && !u.win.visible {
		u.win.show()
	}
}

// start shows what must be shown and starts the bridge from the agent and
// the minute clock of the tray.
func (u *ui) start() {
	if !u.trayMode() || u.opts.ShowWindow {
		u.win.show()
	}
	if u.prompts != nil {
		u.prompts.start()
	}
	go u.follow(u.ctx)
	go u.everyMinute(u.ctx)
}

// stop ends the goroutines and stops answering prompts (the requests
// waiting get approval_required); the caller has quit the Fyne app.
func (u *ui) stop() {
	if u.prompts != nil {
		u.prompts.stop()
	}
	u.cancel()
}

// follow is the one bridge from the agent to the widgets: it loads the
// connections, then applies each event, and starts over when the stream
// breaks (the agent restarted), waiting longer each time, up to 30 s.
func (u *ui) follow(ctx context.Context) {
	wait := time.Second
	for ctx.Err() == nil {
		// Subscribe first, then load: a change between the two arrives as an
		// event instead of waiting for everyMinute.
		err := u.client.EventsAfter(ctx, func() error {
			if err := u.load(ctx); err != nil {
				return err
			}
			u.log.Info("following the agent's events")
			wait = time.Second
			return nil
		}, func(ev localclient.Event) { u.do(func() { u.apply(ev) }) })
		if ctx.Err() != nil {
			return
		}
		u.log.Warn("lost the agent's event stream", "err", err)
		u.do(func() { u.setAgentErr(err) })
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// load fetches the connections and providers and shows them.
func (u *ui) load(ctx context.Context) error {
	conns, err := u.client.Connections(ctx)
	if err != nil {
		return err
	}
	provs, perr := u.client.Providers(ctx)
	u.do(func() {
		if perr == nil {
			u.providers = provs
		}
		u.loaded = true
		u.setAgentErr(nil)
		u.setConns(conns)
	})
	return nil
}

// everyMinute refreshes the tray's labels and re-reads the connections, so
// that a missed event heals within a minute.
func (u *ui) everyMinute(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if conns, err := u.client.Connections(ctx); err == nil {
				u.do(func() { u.setConns(conns) })
			} else {
				u.do(u.changed)
			}
		}
	}
}

// setAgentErr records whether the agent can be reached.
func (u *ui) setAgentErr(err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	u.agentErr = err
	u.win.showAgentErr(err)
	u.changed()
}

// setConns replaces the list of connections.
func (u *ui) setConns(conns []localclient.Connection) {
	u.conns = conns
	u.changed()
}

// apply applies one event from the agent and tells the user when it matters.
func (u *ui) apply(ev localclient.Event) {
	if ev.Type == "activity" {
		if ev.Activity != nil {
			u.win.activity.add(*ev.Activity)
			if ev.Activity.Op == "approval" {
				u.win.apps.onApproval()
				u.win.apps.notifyNewApp(*ev.Activity)
			}
		}
		return
	}
	c := ev.Connection
	i := slices.IndexFunc(u.conns, func(x localclient.Connection) bool { return x.ID == c.ID })
	prev := ""
	if i >= 0 {
		prev = u.conns[i].State
	}
	switch {
	case ev.Type == "revoked":
		if i >= 0 {
			u.conns = slices.Delete(slices.Clone(u.conns), i, i+1)
		}
	case i >= 0:
		u.conns = slices.Clone(u.conns)
		u.conns[i] = c
	default:
		u.conns = append(slices.Clone(u.conns), c)
	}
	if ev.Type == "refreshed" || ev.Type == "connected" {
		u.rearm(c.ID)
	}
	if n, ok := notification(prev, ev, u.now()); ok {
		u.notify(c.ID, n)
	}
	u.changed()
}

// changed shows the current connections in the window and the tray.
func (u *ui) changed() {
	u.win.update(u.conns)
	if u.tray != nil {
		u.tray.update(u.conns)
	}
}

// notify sends n about connection id to the desktop, once per event: the
// same notification about a connection stays quiet, however often it comes
// (the tray's own Refresh now and the agent's state event; the agent's
// retries of a failing refresh), until the connection recovers (rearm).
func (u *ui) notify(id string, n note) {
	key := id + "\x00" + n.Title
	if u.notified[key] {
		return
	}
	if u.notified == nil {
		u.notified = map[string]bool{}
	}
	u.notified[key] = true
	u.app.SendNotification(fyne.NewNotification(n.Title, n.Body))
}

// rearm lets the notifications about connection id be sent again: a
// refresh or a connect succeeded, so a new failure is a new event.
func (u *ui) rearm(id string) {
	for key := range u.notified {
		if strings.HasPrefix(key, id+"\x00") {
			delete(u.notified, key)
		}
	}
}

// askQuit quits, after asking when quitting forgets every connection.
func (u *ui) askQuit() *dialog.ConfirmDialog {
	if !u.opts.QuitForgets || len(u.conns) == 0 {
		u.quit()
		return nil
	}
	u.win.show()
	n := "1 connection"
	if len(u.conns) > 1 {
		n = fmt.Sprintf("%d connections", len(u.conns))
	}
	d := dialog.NewConfirm("Quit and forget "+n+"?",
		"This tokentray keeps its connections in memory only, so quitting forgets "+n+
			"; you would have to connect again. Scripts lose their keys at once.",
		func(ok bool) {
			if ok {
				u.quit()
			}
		}, u.win.w)
	d.SetConfirmText("Quit and forget")
	d.SetDismissText("Keep running")
	d.Show()
	return d
}

// provider returns the provider with id, or nil.
func (u *ui) provider(id string) *localclient.Provider {
	for i := range u.providers {
		if u.providers[i].ID == id {
			return &u.providers[i]
		}
	}
	return nil
}

// connection returns the connection with id, or false.
func (u *ui) connection(id string) (localclient.Connection, bool) {
	for _, c := range u.conns {
		if c.ID == id {
			return c, true
		}
	}
	return localclient.Connection{}, false
}

// call runs a socket call off the Fyne thread with a time limit, then done
// on it with the call's error.
// confirmHuman asks ConfirmAlways, when set, whether a human confirms what,
// off the Fyne thread and without call's time limit (the human may take a
// while to type a password); done gets nil when confirmed or when nothing
// is set to ask.
func (u *ui) confirmHuman(what string, done func(error)) {
	confirm := u.opts.ConfirmAlways
	if confirm == nil {
		done(nil)
		return
	}
	u.async(func() {
		err := confirm(u.ctx, what)
		u.do(func() { done(err) })
	})
}

func (u *ui) call(fn func(ctx context.Context) error, done func(error)) {
	u.async(func() {
		ctx, cancel := context.WithTimeout(u.ctx, 30*time.Second)
		defer cancel()
		err := fn(ctx)
		u.do(func() { done(err) })
	})
}
