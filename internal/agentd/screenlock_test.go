//go:build linux

package agentd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/internal/dbustest"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localclient"
)

// TestScreenLockEndsTerminalGrants: the agent watches the session bus it
// is given; when the screen saver there reports the lock, the interactive
// terminal's grant ends and a script's stays.
func TestScreenLockEndsTerminalGrants(t *testing.T) {
	addr := dbustest.Start(t)
	d, _ := startDaemon(t, map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr, "DBUS_SYSTEM_BUS_ADDRESS": addr})
	ctx := context.Background()
	if _, err := localclient.NewClient(d.Socket).Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Approver().SetApproveApps(true); err != nil {
		t.Fatal(err)
	}
	term := appid.App{Kind: appid.Terminal, Key: appid.TerminalKey, Name: "interactive terminal"}
	bot := appid.App{Kind: appid.Script, Key: appid.ScriptKey("/usr/bin/python3", "", "/home/u/bot.py", "abc"),
		Name: "python3 bot.py", Exe: "/usr/bin/python3", Script: "/home/u/bot.py"}
	for _, app := range []appid.App{term, bot} {
		if _, err := d.Agent.GrantApp(app, devstack.ProviderID, approval.Always); err != nil {
			t.Fatal(err)
		}
	}

	saver := dbustest.Connect(t, addr)
	if err := saver.Emit("/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(d.Agent.AppGrants()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("grants 10 s after the lock: %+v, want the script's only", d.Agent.AppGrants())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if g := d.Agent.AppGrants()[0]; g.Key != bot.Key {
		t.Fatalf("the grant left after the lock: %+v, want the script's", g)
	}
	if err := d.Agent.CheckApp(ctx, term, devstack.ProviderID, "token"); !errors.Is(err, approval.ErrApprovalRequired) {
		t.Fatalf("the terminal after the lock: %v, want approval_required", err)
	}
	if err := d.Agent.CheckApp(ctx, bot, devstack.ProviderID, "token"); err != nil {
		t.Fatalf("the script after the lock: %v", err)
	}
}
