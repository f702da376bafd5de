package agent

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/internal/devstack"
)

// TestAppGrantsSurviveRestart: with approve_apps on, an app without a grant
// is refused at once (no tray); a grant made in the agent's process lets
// that app through under the connection's id and its provider id, is kept
// (encrypted) in the vault across a restart, and its uses with it; approval
// off gates nothing.
func TestAppGrantsSurviveRestart(t *testing.T) {
	e := newEnvTuned(t, func(c *Config) { c.ApproveApps = true })
	c := e.connect()
	ctx := context.Background()
	bot := appid.App{Kind: appid.Script, Key: appid.ScriptKey("/usr/bin/python3", "", "/home/u/bot.py", "abc"),
		Name: "python3 bot.py", Exe: "/usr/bin/python3", Script: "/home/u/bot.py"}
	changed := bot
	changed.Key = appid.ScriptKey("/usr/bin/python3", "", "/home/u/bot.py", "abd")

	if !e.agent.ApproveApps() || !e.agent.Settings().ApproveApps {
		t.Fatal("approve_apps from the config is not on")
	}
	err := e.agent.CheckApp(ctx, bot, c.ID, "token")
	var ae *approval.Error
	if !errors.As(err, &ae) || ae.Code != approval.CodeApprovalRequired || ae.App != "python3 bot.py (/home/u/bot.py)" {
		t.Fatalf("no grant: %v, want approval_required naming the script", err)
	}
	if _, err := e.agent.GrantApp(bot, devstack.ProviderID, approval.Always); err != nil {
		t.Fatal(err)
	}
	if err := e.agent.CheckApp(ctx, bot, c.ID, "token"); err != nil {
		t.Fatalf("granted: %v", err)
	}
	e.restart()
	if err := e.agent.CheckApp(ctx, bot, devstack.ProviderID, "sign"); err != nil {
		t.Fatalf("granted, after a restart: %v", err)
	}
	if err := e.agent.CheckApp(ctx, changed, c.ID, "token"); !errors.Is(err, approval.ErrApprovalRequired) {
		t.Fatalf("the changed script: %v, want approval_required", err)
	}
	g := e.agent.AppGrants()
	if len(g) != 1 || g[0].Uses != 2 || g[0].Connection != c.ID {
		t.Fatalf("grants after a restart: %+v", g)
	}
	if err := e.agent.RevokeApp(g[0].ID); err != nil {
		t.Fatal(err)
	}
	e.restart()
	if err := e.agent.CheckApp(ctx, bot, c.ID, "token"); !errors.Is(err, approval.ErrApprovalRequired) {
		t.Fatalf("revoked, after a restart: %v", err)
	}
	if err := e.agent.CheckApp(ctx, bot, "nope", "token"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown connection: %v", err)
	}
	if err := e.agent.SetApproveApps(false); err != nil {
		t.Fatal(err)
	}
	if err := e.agent.CheckApp(ctx, bot, c.ID, "token"); err != nil {
		t.Fatalf("approval off: %v", err)
	}
}

// TestApproveAppsTrayDefaultAndSavedChoice: the tray app's agent starts
// with approval on whatever config.toml says; the window's "off" is saved
// (encrypted) and holds across restarts, also against approve_apps = true;
// a headless agent follows config.toml unless a saved "on" holds (the file
// never turns off a saved "on"); the tray's default is saved at its first
// start, so a headless agent on the same vault keeps approval on.
func TestApproveAppsTrayDefaultAndSavedChoice(t *testing.T) {
	var tray, file bool
	e := newEnvTuned(t, func(c *Config) { c.TrayApp, c.ApproveApps = tray, file })
	want := func(step string, on bool) {
		t.Helper()
		if got := e.agent.ApproveApps(); got != on {
			t.Fatalf("%s: ApproveApps() = %v, want %v", step, got, on)
		}
		if got := e.agent.Settings().ApproveApps; got != on {
			t.Fatalf("%s: Settings().ApproveApps = %v, want %v", step, got, on)
		}
	}
	want("headless, no config, nothing saved", false)

	tray = true
	e.restart()
	want("tray app, config false", true)
	tray = false
	e.restart()
	want("headless after the tray's first start", true)

	tray = true
	e.restart()
	if err := e.agent.SetApproveApps(false); err != nil {
		t.Fatal(err)
	}
	want("switched off in the window", false)
	e.restart()
	want("tray app after the window's off", false)
	file = true
	e.restart()
	want("tray app, window off, config true", false)
	tray = false
	e.restart()
	want("headless, window off, config true", true)
	file = false
	e.restart()
	want("headless, window off, config false", false)

	tray = true
	e.restart()
	if err := e.agent.SetApproveApps(true); err != nil {
		t.Fatal(err)
	}
	tray = false
	e.restart()
	want("headless, window on, config false", true)
}

// TestApproveAppsSwitchIsLogged: switching approval writes one activity
// entry per change, none for a switch to the state it is in.
func TestApproveAppsSwitchIsLogged(t *testing.T) {
	e := newEnvTuned(t, func(c *Config) { c.TrayApp = true })
	for _, on := range []bool{false, false, true} {
		if err := e.agent.SetApproveApps(on); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	for _, a := range e.agent.Activity() {
		if a.Op == "approval" {
			seen = append(seen, a.Method)
		}
	}
	if want := []string{"approve_apps_on", "approve_apps_off"}; !slices.Equal(seen, want) {
		t.Fatalf("approval activity = %v, want %v (newest first)", seen, want)
	}
}

// TestScreenLockEndsTerminalGrants: a screen lock ends the interactive
// terminal's grant, for good (saved), and leaves the others; the lock is in
// the activity log.
func TestScreenLockEndsTerminalGrants(t *testing.T) {
	e := newEnvTuned(t, func(c *Config) { c.ApproveApps = true })
	c := e.connect()
	ctx := context.Background()
	term := appid.App{Kind: appid.Terminal, Key: appid.TerminalKey, Name: "interactive terminal"}
	bot := appid.App{Kind: appid.Script, Key: appid.ScriptKey("/usr/bin/python3", "", "/home/u/bot.py", "abc"),
		Name: "python3 bot.py", Exe: "/usr/bin/python3", Script: "/home/u/bot.py"}
	curl := appid.App{Kind: appid.Binary, Key: "path:/usr/bin/curl", Name: "curl", Exe: "/usr/bin/curl"}
	for _, g := range []struct {
		app appid.App
		d   approval.Decision
	}{{term, approval.Always}, {bot, approval.Always}, {curl, approval.Deny}} {
		if _, err := e.agent.GrantApp(g.app, c.ID, g.d); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.agent.CheckApp(ctx, term, c.ID, "token"); err != nil {
		t.Fatalf("the terminal, granted: %v", err)
	}

	e.agent.ScreenLocked("org.gnome.ScreenSaver")
	if err := e.agent.CheckApp(ctx, term, c.ID, "token"); !errors.Is(err, approval.ErrApprovalRequired) {
		t.Fatalf("the terminal after the lock: %v, want approval_required", err)
	}
	if err := e.agent.CheckApp(ctx, bot, c.ID, "token"); err != nil {
		t.Fatalf("the script after the lock: %v, want its grant kept", err)
	}
	var locked bool
	for _, a := range e.agent.Activity() {
		locked = locked || (a.Op == "approval" && a.Method == "screen_locked" && a.Exe == "org.gnome.ScreenSaver")
	}
	if !locked {
		t.Fatal("no screen_locked entry in the activity log")
	}
	e.restart()
	var keys []string
	for _, g := range e.agent.AppGrants() {
		keys = append(keys, g.Key+" "+string(g.Decision))
	}
	slices.Sort(keys)
	want := []string{bot.Key + " always", curl.Key + " deny"}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("grants after the lock and a restart = %v, want %v", keys, want)
	}
}

// TestUseCountsSavedAtMostEvery30s: the use counts alone are written at
// most once every usesSaveEvery, however often a granted bot asks, and the
// write that follows the rest holds every use.
func TestUseCountsSavedAtMostEvery30s(t *testing.T) {
	e := newEnvTuned(t, func(c *Config) { c.ApproveApps = true })
	c := e.connect()
	ctx := context.Background()
	bot := appid.App{Kind: appid.Binary, Key: appid.BinaryKey("/home/u/bot", "abc"), Name: "bot", Exe: "/home/u/bot"}
	if _, err := e.agent.GrantApp(bot, c.ID, approval.Always); err != nil {
		t.Fatal(err)
	}
	before := e.agent.apps.saves.Load()
	// A bot signing in bursts: ten requests, a pause long enough for a save.
	const uses = 200
	for i := range uses {
		if err := e.agent.CheckApp(ctx, bot, c.ID, "sign"); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	stored := func() int {
		rec, ok := e.agent.vault.Get(grantsKey)
		if !ok {
			return -1
		}
		g, err := approval.UnmarshalGrants(rec.Meta)
		if err != nil || len(g) != 1 {
			t.Fatalf("stored grants %v: %v", g, err)
		}
		return g[0].Uses
	}
	// The saver writes soon after a change, then rests until the (fake)
	// clock has moved usesSaveEvery: move it while the uses are not stored.
	deadline := time.Now().Add(30 * time.Second)
	for next := time.Now(); stored() != uses; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the vault holds %d uses after 30 s, want %d", stored(), uses)
		}
		if time.Now().After(next) {
			e.clock.Advance(usesSaveEvery)
			next = time.Now().Add(time.Second)
		}
	}
	if n := e.agent.apps.saves.Load() - before; n > 2 {
		t.Fatalf("%d uses were written in %d vault saves, want at most 2", uses, n)
	}
}

// TestTrayDefaultOffWhereAppsCannotBeIdentified: on a system where appid
// cannot identify apps, every request would be an "Allow once", so the tray
// app's default is off there, and saved like a choice.
func TestTrayDefaultOffWhereAppsCannotBeIdentified(t *testing.T) {
	identifySupported = false
	t.Cleanup(func() { identifySupported = appid.Supported })
	e := newEnvTuned(t, func(c *Config) { c.TrayApp = true })
	if e.agent.ApproveApps() {
		t.Fatal("approval is on where apps cannot be identified")
	}
	identifySupported = true
	e.restart()
	if e.agent.ApproveApps() {
		t.Fatal("the saved default did not hold at the next start")
	}
}
