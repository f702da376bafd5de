package app

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
)

// checks lists the dialog's scope boxes as "label [x]" with "locked" when
// they cannot be changed.
func checks(a *addDialog) []string {
	var out []string
	for _, s := range a.chosen().Scopes {
		ch := a.checks[s.Name]
		line := ch.Text
		if ch.Checked {
			line += " [x]"
		} else {
			line += " [ ]"
		}
		if ch.Disabled() {
			line += " locked"
		}
		out = append(out, line)
	}
	return out
}

func TestAddDialogOffersTheAgentsProviders(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	a := u.openAdd(nil)
	q.until(t, "the providers", func() bool { return a.chosen() != nil })
	if got := a.provider.Selected; got != "EXchange" {
		t.Fatalf("provider = %q, want EXchange", got)
	}
	want := []string{
		"profile — basic user information (required) [x] locked",
		"history — your orders and trades [x]",
		"trade — place and cancel orders [ ]",
	}
	if got := checks(a); !slices.Equal(got, want) {
		t.Fatalf("scopes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	test.Tap(a.checks["profile"]) // locked: a tap changes nothing
	if !a.checks["profile"].Checked {
		t.Fatal("a tap unticked the required scope")
	}
	if req, err := a.request(); err != nil || !slices.Equal(req.Scopes, []string{"profile", "history"}) {
		t.Fatalf("request = %+v, %v", req, err)
	}
}

// withFields is a provider with one field of each kind.
var withFields = localclient.Provider{
	ID: "desk", Name: "Desk", Scopes: []localclient.Scope{{Name: "read", Default: true}},
	Fields: []localclient.Field{
		{Name: "environment", Label: "Environment", Kind: "select", Options: []string{"production", "sandbox"}, Required: true, Default: "production"},
		{Name: "subaccount", Label: "Subaccount", Kind: "text", Required: true},
		{Name: "note", Label: "Note", Kind: "text"},
	},
}

func TestAddDialogFields(t *testing.T) {
	u, _ := newTestUI(t, nil)
	a := &addDialog{u: u}
	a.build()
	a.setProviders([]localclient.Provider{exchange, withFields})
	a.provider.SetSelected("Desk")
	if len(a.fields.Objects) != 6 {
		t.Fatalf("fields show %d objects, want a label and an input for each of 3", len(a.fields.Objects))
	}
	var labels []string
	for _, f := range withFields.Fields {
		labels = append(labels, fieldLabel(f))
	}
	if want := []string{"Environment *", "Subaccount *", "Note"}; !slices.Equal(labels, want) {
		t.Fatalf("labels = %q, want %q", labels, want)
	}
	if got := a.selects["environment"].Selected; got != "production" {
		t.Fatalf("the select starts at %q, want its default", got)
	}
	test.Tap(a.connect)
	if !a.errLine.Visible() || !strings.Contains(a.errLine.Text, "Subaccount") || a.progress.Visible() {
		t.Fatalf("a missing required field: error %q (shown %v), progress shown %v", a.errLine.Text, a.errLine.Visible(), a.progress.Visible())
	}
	a.entries["subaccount"].SetText(" desk-7 ")
	a.selects["environment"].SetSelected("sandbox")
	req, err := a.request()
	want := map[string]string{"environment": "sandbox", "subaccount": "desk-7"}
	if err != nil || req.Provider != "desk" || len(req.Fields) != 2 || req.Fields["environment"] != want["environment"] || req.Fields["subaccount"] != want["subaccount"] {
		t.Fatalf("request = %+v, %v; want fields %v", req, err, want)
	}
}

func TestAddConnectsThroughTheAgent(t *testing.T) {
	c, stack := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	a := u.openAdd(nil)
	q.until(t, "the providers", func() bool { return a.chosen() != nil })
	test.Tap(a.checks["trade"])
	test.Tap(a.connect)
	if !a.progress.Visible() || a.form.Visible() {
		t.Fatal("no progress shown while waiting for the browser")
	}
	// The event stream may bring the connection before the connect call's
	// own answer (URL line, then result) is handled: wait for both.
	q.until(t, "the connection", func() bool {
		return len(u.conns) == 1 && u.conns[0].State == localclient.StateConnected && a.stop == nil
	})
	if !strings.HasPrefix(a.url.Text, stack.ExchangeURL+"/oauth/authorize?") || a.copyURL.Disabled() {
		t.Fatalf("the URL to copy is %q (copy disabled %v)", a.url.Text, a.copyURL.Disabled())
	}
	test.Tap(a.copyURL)
	if got := u.app.Clipboard().Content(); got != a.url.Text {
		t.Fatalf("Copy put %q on the clipboard", got)
	}
	if got := u.conns[0].ScopesRequested; !slices.Equal(got, []string{"profile", "history", "trade"}) {
		t.Fatalf("requested scopes %v", got)
	}
	if u.win.cards[u.conns[0].ID] == nil {
		t.Fatal("no card for the new connection")
	}
}

func TestAddShowsTheProvidersError(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoDeny, devstack.Browser)
	u, q := newTestUI(t, c)
	a := u.openAdd(nil)
	q.until(t, "the providers", func() bool { return a.chosen() != nil })
	if a.spinner.Running() {
		t.Fatal("the progress animation runs before any flow: it costs CPU while the dialog waits")
	}
	test.Tap(a.connect)
	if !a.spinner.Running() {
		t.Fatal("the progress animation does not run during the flow")
	}
	q.until(t, "the error", func() bool { return a.errLine.Visible() })
	if a.spinner.Running() {
		t.Fatal("the progress animation outlived the flow: the app stays busy after the dialog")
	}
	if !a.form.Visible() || a.progress.Visible() {
		t.Fatal("after a refusal the form is not back")
	}
	// The exchange's own words (Doorkeeper's access_denied description).
	if !strings.HasPrefix(a.errLine.Text, "EXchange refused: ") || !strings.Contains(a.errLine.Text, "denied") ||
		strings.Contains(a.errLine.Text, "oauthflow") || strings.Contains(a.errLine.Text, "provider error") {
		t.Fatalf("error shown: %q, want the provider's refusal as a sentence", a.errLine.Text)
	}
	if conns, err := c.Connections(context.Background()); err != nil || len(conns) != 0 {
		t.Fatalf("after a refusal the agent holds %v, %v", conns, err)
	}
}

func TestAddCancelWhileWaitingForTheBrowser(t *testing.T) {
	c, stack := startAgent(t, fakeexchange.Manual, ignore)
	u, q := newTestUI(t, c)
	a := u.openAdd(nil)
	q.until(t, "the providers", func() bool { return a.chosen() != nil })
	test.Tap(a.connect)
	q.until(t, "the URL", func() bool { return a.url.Text != "" })
	if !strings.HasPrefix(a.url.Text, stack.ExchangeURL) {
		t.Fatalf("URL %q", a.url.Text)
	}
	test.Tap(a.cancel)
	q.until(t, "the form", func() bool { return a.form.Visible() })
	if a.errLine.Text != "Cancelled; nothing was connected." {
		t.Fatalf("after Cancel the dialog says %q", a.errLine.Text)
	}
	if conns, _ := c.Connections(context.Background()); len(conns) != 0 {
		t.Fatalf("a cancelled flow left %v", conns)
	}
}

func TestReconnectPrefillsTheDialog(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c, "profile", "trade")
	a := u.reconnect(conn.ID)
	q.until(t, "the providers", func() bool { return a.chosen() != nil })
	want := []string{
		"profile — basic user information (required) [x] locked",
		"history — your orders and trades [ ]",
		"trade — place and cancel orders [x]",
	}
	if got := checks(a); !slices.Equal(got, want) {
		t.Fatalf("reconnect scopes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a.provider.Selected != "EXchange" || devstack.ProviderID != a.chosen().ID {
		t.Fatalf("reconnect picked %q", a.provider.Selected)
	}
}

func TestAddingAConnectedAccountAgainSaysSoAndKeepsItsScopes(t *testing.T) {
	c, _ := startAgent(t, fakeexchange.AutoApprove, devstack.Browser)
	u, q := newTestUI(t, c)
	startBridge(t, u, q)
	conn := connect(t, u, q, c, "profile", "trade")
	a := u.openAdd(nil)
	q.until(t, "the providers", func() bool { return a.chosen() != nil })
	if !a.existing.Visible() || !strings.Contains(a.existing.Text, conn.Label) || !strings.Contains(a.existing.Text, conn.ID) ||
		!strings.Contains(a.existing.Text, "renewed, not added") {
		t.Fatalf("the dialog says %q (shown %v); want it to name %s (%s) and say it would be renewed", a.existing.Text, a.existing.Visible(), conn.Label, conn.ID)
	}
	want := []string{
		"profile — basic user information (required) [x] locked",
		"history — your orders and trades [x]",
		"trade — place and cancel orders [x]",
	}
	if got := checks(a); !slices.Equal(got, want) {
		t.Fatalf("scopes:\n%s\nwant the union of the connection's and the defaults:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !a.connect.Disabled() {
		t.Fatal("Connect is enabled before the user confirmed the renewal")
	}
	test.Tap(a.renewOK)
	if a.connect.Disabled() {
		t.Fatal("Connect stays disabled after the confirmation")
	}
	test.Tap(a.connect)
	q.until(t, "the renewal", func() bool {
		got, _ := u.connection(conn.ID)
		return got.Generation > conn.Generation || !a.progress.Visible() && !a.form.Visible()
	})
	got, err := c.Connection(context.Background(), conn.ID)
	if err != nil || !slices.Contains(got.ScopesRequested, "trade") {
		t.Fatalf("after the renewal the connection is %+v, %v; the trade scope must survive", got, err)
	}
}
