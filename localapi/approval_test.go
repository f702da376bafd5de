package localapi_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localclient"
)

// selfApp is how the agent names this test process: the app a grant must
// name. The agent runs in this process, so it takes this executable for the
// CLI and names the program that ran the test (`go test`).
func selfApp(t *testing.T) appid.App {
	t.Helper()
	p, err := appid.PinPID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	app, err := appid.New(appid.Config{CLIExecutables: []string{exe}}).Identify(p)
	if err != nil || !app.Grantable() {
		t.Skipf("this system cannot identify the test process (%v): %s", err, app.Reason)
	}
	return app
}

// TestApprovalGate: with approve_apps on and no tray, token, sign and proxy
// answer approval_required naming this program; a grant made in the agent's
// process (as the tray will) lets exactly this app × connection through,
// under its id and under the provider id alike; a deny grant answers
// denied; revoking it over the socket asks again; a proposal grants nothing;
// the switch cannot be turned off over the socket.
func TestApprovalGate(t *testing.T) {
	e := newEnv(t, envOptions{})
	c := e.connect()
	ctx := context.Background()
	e.token(c.ID) // approval off: nothing changes

	a := e.daemon.Agent
	a.SetApproveApps(true)
	self := selfApp(t)
	name := self.Name

	_, err := e.client.Token(ctx, c.ID, 0)
	if !errors.Is(err, localclient.ErrApprovalRequired) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "tokentray approve") {
		t.Fatalf("token without a grant: %v; want approval_required naming %s and how to approve it", err, name)
	}
	var le *localclient.Error
	if !errors.As(err, &le) || le.Status != http.StatusForbidden {
		t.Fatalf("token without a grant: %#v, want status 403", err)
	}
	if _, err := e.client.Sign(ctx, c.ID, localclient.SignRequest{Method: "GET", Path: "/api/v2/members/me"}); !errors.Is(err, localclient.ErrApprovalRequired) {
		t.Fatalf("sign without a grant: %v", err)
	}
	if _, err := e.client.Proxy(ctx, c.ID, "GET", "members/me", nil); !errors.Is(err, localclient.ErrApprovalRequired) {
		t.Fatalf("proxy without a grant: %v", err)
	}

	// The switch shows, and the socket cannot turn it off.
	st, err := e.client.Settings(ctx)
	if err != nil || !st.ApproveApps {
		t.Fatalf("settings: %+v, %v; want approve_apps true", st, err)
	}
	code, _, body := e.raw("PATCH", "/v1/settings", strings.NewReader(`{"approve_apps":false}`), nil)
	if code != http.StatusForbidden || !strings.Contains(string(body), "only the tray app's window can change approve_apps") {
		t.Fatalf("PATCH approve_apps=false: %d %s", code, body)
	}
	if !a.ApproveApps() {
		t.Fatal("PATCH over the socket turned approve_apps off")
	}

	// A proposal is a note for a human, not a grant. (The test binary is
	// the CLI here, which a proposal refuses: it is looked through.)
	bot := filepath.Join(t.TempDir(), "bot.sh")
	if err := os.WriteFile(bot, []byte("#!/bin/sh\necho\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.ProposeApp(ctx, localclient.ProposalRequest{Script: bot, Connection: devstack.ProviderID})
	if err != nil || p.ID == "" || p.Connection != c.ID {
		t.Fatalf("propose: %+v, %v; want a proposal for %s", p, err, c.ID)
	}
	if got := a.Approvals().Proposals(); len(got) != 1 {
		t.Fatalf("proposals waiting: %d, want 1", len(got))
	}
	if _, err := e.client.Token(ctx, c.ID, 0); !errors.Is(err, localclient.ErrApprovalRequired) {
		t.Fatalf("token after a proposal: %v; a proposal must grant nothing", err)
	}

	// A grant under the provider id covers the connection's own id.
	g, err := a.GrantApp(self, devstack.ProviderID, approval.Always)
	if err != nil {
		t.Fatal(err)
	}
	e.token(c.ID)
	e.token(devstack.ProviderID)
	if _, err := e.client.Sign(ctx, c.ID, localclient.SignRequest{Method: "GET", Path: "/api/v2/members/me"}); err != nil {
		t.Fatalf("sign with a grant: %v", err)
	}
	apps, err := e.client.Apps(ctx)
	if err != nil || len(apps) != 1 || apps[0].ID != g.ID || apps[0].Connection != c.ID || apps[0].Decision != "always" || apps[0].Uses != 3 || apps[0].LastUsed.IsZero() {
		t.Fatalf("apps: %+v, %v; want one grant for %s used 3 times", apps, err, c.ID)
	}

	// Another app (another key) gets nothing from this grant.
	other := self
	other.Key += " other"
	if err := a.CheckApp(ctx, other, c.ID, "token"); !errors.Is(err, approval.ErrApprovalRequired) {
		t.Fatalf("another app: %v, want approval required", err)
	}

	// A deny grant refuses; revoking it over the socket asks again.
	d, err := a.GrantApp(self, c.ID, approval.Deny)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Token(ctx, c.ID, 0); !errors.Is(err, localclient.ErrDenied) {
		t.Fatalf("token with a deny grant: %v", err)
	}
	if err := e.client.RevokeApp(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.client.RevokeApp(ctx, d.ID); !errors.Is(err, localclient.ErrNotFound) {
		t.Fatalf("revoking twice: %v, want not_found", err)
	}
	if _, err := e.client.Token(ctx, c.ID, 0); !errors.Is(err, localclient.ErrApprovalRequired) {
		t.Fatalf("token after the revocation: %v", err)
	}

	// Every decision is in the activity log.
	acts, err := e.client.Activity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, x := range acts {
		if x.Op == "approval" {
			seen[x.Method] = true
		}
	}
	for _, k := range []string{"approval_required", "used", "granted", "denied", "revoked", "proposed"} {
		if !seen[k] {
			t.Errorf("no approval %q in the activity log: %v", k, seen)
		}
	}

	// Off again (the tray's window): nothing is gated.
	a.SetApproveApps(false)
	e.token(c.ID)
}
