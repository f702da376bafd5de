package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localclient"
)

// addDialog connects an account: a provider, its scopes (defaults ticked,
// required ones locked) and extra fields; then "waiting for the browser…"
// with the URL to copy and Cancel; then the connection or the provider's
// own error.
type addDialog struct {
	u       *ui
	d       dialog.Dialog
	prefill *localclient.ConnectRequest

	providers []localclient.Provider
	provider  *widget.Select
	scopes    *fyne.Container
	checks    map[string]*widget.Check
	fields    *fyne.Container
	entries   map[string]*widget.Entry
	selects   map[string]*widget.Select
	errLine   *widget.Label
	existing  *widget.Label // the provider's connections this sign-in may renew
	renewOK   *widget.Check // the user read it; Connect waits for the tick
	connect   *widget.Button
	close     *widget.Button
	form      *fyne.Container

	waiting  *widget.Label
	spinner  *widget.ProgressBarInfinite // animates only while a flow runs
	url      *widget.Entry
	copyURL  *widget.Button
	cancel   *widget.Button
	progress *fyne.Container
	stop     context.CancelFunc // ends the flow; nil when none runs
	stopped  bool               // the user pressed Cancel
}

// openAdd opens the dialog; prefill, if set, picks the provider, scopes and
// fields (a reconnect).
func (u *ui) openAdd(prefill *localclient.ConnectRequest) *addDialog {
	a := &addDialog{u: u, prefill: prefill}
	a.build()
	title := "Add connection"
	if prefill != nil {
		title = "Reconnect"
	}
	a.d = dialog.NewCustomWithoutButtons(title, container.NewStack(a.form, a.progress), u.win.w)
	a.d.Resize(fyne.NewSize(560, 480))
	a.d.Show()
	a.spinner.Stop() // making its renderer (Show, MinSize) starts it
	a.loadProviders()
	return a
}

func (a *addDialog) build() {
	a.provider = widget.NewSelect(nil, a.onProvider)
	a.provider.PlaceHolder = "Loading providers…"
	a.scopes = container.NewVBox()
	a.fields = container.NewVBox()
	a.errLine = widget.NewLabel("")
	a.errLine.Importance = widget.DangerImportance
	a.errLine.Wrapping = fyne.TextWrapWord
	a.errLine.Hide()
	a.existing = widget.NewLabel("")
	a.existing.Importance = widget.WarningImportance
	a.existing.Wrapping = fyne.TextWrapWord
	a.existing.Hide()
	a.renewOK = widget.NewCheck("I understand: the same account renews that connection with the scopes ticked above", func(on bool) {
		if on {
			a.connect.Enable()
		} else {
			a.connect.Disable()
		}
	})
	a.renewOK.Hide()
	a.connect = widget.NewButton("Connect", a.onConnect)
	a.connect.Importance = widget.HighImportance
	a.connect.Disable()
	a.close = widget.NewButton("Close", func() { a.d.Hide() })
	a.form = container.NewBorder(
		container.NewVBox(widget.NewLabel("Provider"), a.provider),
		container.NewVBox(a.errLine, container.NewHBox(a.close, a.connect)),
		nil, nil,
		container.NewVScroll(container.NewVBox(
			a.existing, a.renewOK,
			widget.NewLabelWithStyle("What scripts may do", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			a.scopes, a.fields)),
	)

	// The animation runs on Fyne's animation loop until stopped, even inside
	// a hidden dialog: it is started with a flow and stopped with it, or the
	// app burns a quarter of a core until the renderer is dropped.
	a.spinner = widget.NewProgressBarInfinite()
	a.spinner.Stop()
	a.waiting = widget.NewLabel("Waiting for the browser… Approve tokentray at the provider, then come back.")
	a.waiting.Wrapping = fyne.TextWrapWord
	a.url = widget.NewEntry()
	a.url.PlaceHolder = "the sign-in address appears here"
	a.copyURL = widget.NewButton("Copy", func() { a.u.app.Clipboard().SetContent(a.url.Text) })
	a.copyURL.Disable()
	a.cancel = widget.NewButton("Cancel", a.onCancel)
	a.progress = container.NewVBox(
		a.waiting, a.spinner,
		widget.NewLabel("If no browser opened, copy this address into one:"),
		container.NewBorder(nil, nil, nil, a.copyURL, a.url),
		container.NewHBox(a.cancel),
	)
	a.progress.Hide()
}

// loadProviders fetches the providers the agent knows.
func (a *addDialog) loadProviders() {
	var list []localclient.Provider
	a.u.call(func(ctx context.Context) (err error) {
		list, err = a.u.client.Providers(ctx)
		return err
	}, func(err error) {
		if err != nil {
			a.provider.PlaceHolder = "No providers"
			a.provider.Refresh()
			a.showErr(errors.New(a.u.say(err, "")))
			return
		}
		a.u.providers = list
		a.setProviders(list)
	})
}

func (a *addDialog) setProviders(list []localclient.Provider) {
	a.providers = list
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = p.Name
	}
	a.provider.Options = names
	a.provider.PlaceHolder = "Choose a provider"
	if len(list) == 0 {
		a.provider.PlaceHolder = "No providers: set a relay or local providers in config.toml"
	}
	a.provider.Refresh()
	pick := 0
	if a.prefill != nil {
		pick = slices.IndexFunc(list, func(p localclient.Provider) bool { return p.ID == a.prefill.Provider })
	}
	if pick >= 0 && pick < len(list) {
		a.provider.SetSelectedIndex(pick)
	}
}

// chosen is the selected provider, or nil.
func (a *addDialog) chosen() *localclient.Provider {
	i := a.provider.SelectedIndex()
	if i < 0 || i >= len(a.providers) {
		return nil
	}
	return &a.providers[i]
}

// onProvider shows the provider's scopes and fields.
func (a *addDialog) onProvider(string) {
	p := a.chosen()
	if p == nil {
		return
	}
	var pre *localclient.ConnectRequest
	if a.prefill != nil && a.prefill.Provider == p.ID {
		pre = a.prefill
	}
	// Signing in again with an account already connected renews that
	// connection (the agent keeps one per account): say which, tick the
	// scopes it has so none is dropped unseen, and wait for a tick.
	var same []localclient.Connection
	if a.prefill == nil {
		for _, c := range a.u.conns {
			if c.Provider == p.ID {
				same = append(same, c)
			}
		}
	}
	if len(same) > 0 {
		scopes := []string{}
		for _, s := range p.Scopes {
			if s.Default || s.Required {
				scopes = append(scopes, s.Name)
			}
		}
		for _, c := range same {
			scopes = append(append(scopes, c.ScopesGranted...), c.ScopesRequested...)
		}
		pre = &localclient.ConnectRequest{Provider: p.ID, Scopes: scopes, Fields: same[0].Fields}
	}
	a.existing.SetText(existingText(p, same))
	a.existing.Hidden = len(same) == 0
	a.renewOK.Hidden = len(same) == 0
	a.renewOK.SetChecked(false)
	a.existing.Refresh()
	a.renewOK.Refresh()
	a.checks = map[string]*widget.Check{}
	var scopes []fyne.CanvasObject
	for _, s := range p.Scopes {
		ch := widget.NewCheck(scopeLabel(s), nil)
		ch.SetChecked(s.Default || s.Required)
		if pre != nil {
			ch.SetChecked(s.Required || slices.Contains(pre.Scopes, s.Name))
		}
		if s.Required {
			ch.Disable()
		}
		a.checks[s.Name] = ch
		scopes = append(scopes, ch)
	}
	a.scopes.Objects = scopes
	a.scopes.Refresh()

	a.entries, a.selects = map[string]*widget.Entry{}, map[string]*widget.Select{}
	var fields []fyne.CanvasObject
	for _, f := range p.Fields {
		value := f.Default
		if pre != nil && pre.Fields[f.Name] != "" {
			value = pre.Fields[f.Name]
		}
		var in fyne.CanvasObject
		if f.Kind == "select" {
			s := widget.NewSelect(f.Options, nil)
			s.SetSelected(value)
			a.selects[f.Name] = s
			in = s
		} else {
			e := widget.NewEntry()
			e.SetText(value)
			a.entries[f.Name] = e
			in = e
		}
		fields = append(fields, widget.NewLabel(fieldLabel(f)), in)
	}
	a.fields.Objects = fields
	a.fields.Refresh()
	a.showErr(nil)
	if len(same) == 0 {
		a.connect.Enable()
	} else {
		a.connect.Disable()
	}
}

// existingText says which connections of p a new sign-in may renew; "" for
// none.
func existingText(p *localclient.Provider, same []localclient.Connection) string {
	if len(same) == 0 {
		return ""
	}
	var names []string
	for _, c := range same {
		names = append(names, c.Label+" (account "+c.Account+", id "+c.ID+")")
	}
	return p.Name + " is already connected here: " + strings.Join(names, "; ") + ". " +
		"If you sign in with that same account, its connection is renewed, not added: it gets a new key and the scopes ticked below, " +
		"and scripts using the old key need the new one. Its current scopes are ticked, so none is dropped unless you untick it. " +
		"Sign in with another account to add a second connection."
}

// scopeLabel is a scope's checkbox text.
func scopeLabel(s localclient.Scope) string {
	l := s.Name
	if s.Description != "" {
		l += " — " + s.Description
	}
	if s.Required {
		l += " (required)"
	}
	return l
}

// fieldLabel is an extra field's label; required ones are marked.
func fieldLabel(f localclient.Field) string {
	l := f.Label
	if l == "" {
		l = f.Name
	}
	if f.Required {
		l += " *"
	}
	return l
}

// request is what the form asks for, or why it cannot be sent yet.
func (a *addDialog) request() (localclient.ConnectRequest, error) {
	p := a.chosen()
	if p == nil {
		return localclient.ConnectRequest{}, errors.New("choose a provider first")
	}
	req := localclient.ConnectRequest{Provider: p.ID, Scopes: []string{}, Fields: map[string]string{}}
	for _, s := range p.Scopes {
		if a.checks[s.Name].Checked {
			req.Scopes = append(req.Scopes, s.Name)
		}
	}
	var missing []string
	for _, f := range p.Fields {
		v := ""
		if e, ok := a.entries[f.Name]; ok {
			v = strings.TrimSpace(e.Text)
		} else if s, ok := a.selects[f.Name]; ok {
			v = s.Selected
		}
		if v != "" {
			req.Fields[f.Name] = v
		} else if f.Required {
			missing = append(missing, strings.TrimSuffix(fieldLabel(f), " *"))
		}
	}
	if len(missing) > 0 {
		return req, errors.New("please fill in " + strings.Join(missing, ", "))
	}
	return req, nil
}

func (a *addDialog) showErr(err error) {
	if err == nil {
		a.errLine.Hide()
		return
	}
	text := capital(err.Error()) // a sentence: the form's own errors are Go-style
	if !strings.HasSuffix(text, ".") {
		text += "."
	}
	a.errLine.SetText(text)
	a.errLine.Show()
}

// onConnect starts the flow and shows its progress.
func (a *addDialog) onConnect() {
	req, err := a.request()
	if err != nil {
		a.showErr(err)
		return
	}
	a.showErr(nil)
	a.url.SetText("")
	a.copyURL.Disable()
	a.form.Hide()
	a.progress.Show()
	a.spinner.Start()
	ctx, stop := context.WithCancel(a.u.ctx)
	a.stop, a.stopped = stop, false
	a.u.async(func() {
		conn, err := a.u.client.Connect(ctx, req, func(u string) {
			a.u.do(func() {
				a.url.SetText(u)
				a.copyURL.Enable()
			})
		})
		stop()
		a.u.do(func() { a.done(conn, err) })
	})
}

// done ends the flow: the dialog closes on success; on failure the form
// comes back with the provider's own words.
func (a *addDialog) done(conn *localclient.Connection, err error) {
	a.stop = nil
	if err == nil {
		a.spinner.Stop()
		a.d.Hide()
		a.u.apply(localclient.Event{Type: "state", Connection: *conn})
		return
	}
	msg := ""
	if p := a.chosen(); p != nil {
		msg = a.u.say(err, p.ID)
	}
	if a.stopped {
		msg = "Cancelled; nothing was connected."
	}
	a.progress.Hide()
	a.spinner.Stop()
	a.form.Show()
	a.showErr(errors.New(msg))
}

// onCancel ends the flow in progress; the agent stops waiting for the
// browser when the call hangs up.
func (a *addDialog) onCancel() {
	if a.stop != nil {
		a.stopped = true
		a.stop()
	}
}
