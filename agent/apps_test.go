package agent

import (
	"context"
	"errors"
	"testing"

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
	e.agent.SetApproveApps(false)
	if err := e.agent.CheckApp(ctx, bot, c.ID, "token"); err != nil {
		t.Fatalf("approval off: %v", err)
	}
}
