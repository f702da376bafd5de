package app

import (
	"context"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localclient"
)

// refresh asks the agent to refresh a connection's key now, then calls done
// on the Fyne thread with the refreshed connection.
func (u *ui) refresh(id string, done func(*localclient.Connection, error)) {
	var got *localclient.Connection
	u.call(func(ctx context.Context) (err error) {
		got, err = u.client.Refresh(ctx, id, nil)
		return err
	}, func(err error) { done(got, err) })
}

// say logs err with its whole chain and returns it as a sentence for the
// window; provider is the id of the provider it concerns, or "".
func (u *ui) say(err error, provider string) string {
	if err == nil {
		return ""
	}
	u.log.Warn("an action failed", "provider", provider, "err", err)
	name := ""
	if p := u.provider(provider); p != nil && p.Name != "" {
		name = p.Name
	} else if provider != "" {
		name = provider
	}
	return sentence(err, name)
}

// revokeDialog asks before a revoke and says what happens at the provider.
type revokeDialog struct {
	d       dialog.Dialog
	text    *widget.Label
	confirm *widget.Button
	cancel  *widget.Button
}

// revokeText says what revoking conn does, in the provider's name.
func revokeText(conn localclient.Connection, p *localclient.Provider) string {
	name := conn.Provider
	if p != nil && p.Name != "" {
		name = p.Name
	}
	return "tokentray asks " + name + " to revoke the keys of " + conn.Label + " (account " + conn.Account + "). " +
		"Scripts using them stop working at once, and the connection is removed from this computer.\n\n" +
		"If " + name + " cannot be reached, the connection is still removed here, and tokentray keeps asking " +
		name + " to revoke the keys until it answers. To end them at once, you can also revoke tokentray's access on " +
		name + "'s website."
}

// removedHereText says what happened when the provider could not be asked:
// the same promise as the confirmation.
func removedHereText(conn localclient.Connection, p *localclient.Provider) string {
	name := conn.Provider
	if p != nil && p.Name != "" {
		name = p.Name
	}
	return conn.Label + " is removed from this computer. " + name + " could not be reached, so tokentray keeps asking it to revoke the keys " +
		"and tries again later, also after a restart. To end them at once, revoke tokentray's access on " + name + "'s website."
}

// confirmRevoke asks, then revokes the connection with id and reports what
// the provider said.
func (u *ui) confirmRevoke(id string) *revokeDialog {
	conn, ok := u.connection(id)
	if !ok {
		return nil
	}
	r := &revokeDialog{text: widget.NewLabel(revokeText(conn, u.provider(conn.Provider)))}
	r.text.Wrapping = fyne.TextWrapWord
	r.cancel = widget.NewButton("Cancel", func() { r.d.Hide() })
	r.confirm = widget.NewButton("Revoke", func() {
		r.d.Hide()
		var res *localclient.RevokeResult
		u.call(func(ctx context.Context) (err error) {
			res, err = u.client.Revoke(ctx, id)
			return err
		}, func(err error) {
			switch {
			case err != nil:
				dialog.ShowInformation("Not revoked", u.say(err, conn.Provider), u.win.w)
			case !res.RevokedAtProvider:
				u.log.Info("revoked here only", "connection", id, "agent", res.Message)
				dialog.ShowInformation("Removed here; revocation pending", removedHereText(conn, u.provider(conn.Provider)), u.win.w)
			}
		})
	})
	r.confirm.Importance = widget.DangerImportance
	content := container.NewBorder(nil, container.NewHBox(r.cancel, r.confirm), nil, nil, r.text)
	r.d = dialog.NewCustomWithoutButtons("Revoke "+conn.Label+"?", content, u.win.w)
	r.d.Resize(fyne.NewSize(480, 240))
	r.d.Show()
	return r
}

// reconnect opens the Add dialog for the connection's provider, with its
// scopes and fields, so that a new authorization replaces the dead one.
func (u *ui) reconnect(id string) *addDialog {
	conn, ok := u.connection(id)
	if !ok {
		return nil
	}
	// The scopes it had: asked for, and granted (a provider may grant more).
	scopes := slices.Concat(conn.ScopesRequested, conn.ScopesGranted)
	return u.openAdd(&localclient.ConnectRequest{Provider: conn.Provider, Scopes: scopes, Fields: conn.Fields})
}

// setRawKeys sets whether scripts may read the connection's raw keys, then
// calls done on the Fyne thread.
func (u *ui) setRawKeys(id string, on bool, done func(error)) {
	var got *localclient.Connection
	u.call(func(ctx context.Context) (err error) {
		got, err = u.client.UpdateConnection(ctx, id, localclient.ConnectionPatch{RawKeys: &on})
		return err
	}, func(err error) {
		if err == nil {
			u.apply(localclient.Event{Type: "state", Connection: *got})
		}
		done(err)
	})
}
