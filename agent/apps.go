package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/vault"
)

// grantsKey is the vault entry that holds the app grants (approval.MarshalGrants).
const grantsKey = "app_grants"

// apps is the agent's part of app approval: the broker and its saver.
type apps struct {
	broker  *approval.Broker
	dirty   chan struct{} // wakes the saver: the grants changed
	changed atomic.Bool   // the grants changed since the last save
	save    sync.Mutex    // a leaf lock; serialises the saves of the grants
	saves   atomic.Int64  // vault writes of the grants, for tests
}

// newBroker makes the approval broker with the grants kept in the vault.
// Unreadable grants are dropped with a warning: every app is then asked
// again, which errs on the side of asking.
func (a *Agent) newBroker() error {
	var grants []approval.Grant
	if rec, ok := a.vault.Get(grantsKey); ok {
		g, err := approval.UnmarshalGrants(rec.Meta)
		if err != nil {
			a.log.Warn("vault: ignoring unreadable app grants; every app is asked again", "err", err)
		} else {
			grants = g
		}
	}
	a.apps.dirty = make(chan struct{}, 1)
	b, err := approval.New(approval.Config{
		Clock:    a.clock,
		OnChange: a.grantsChanged,
		Audit:    a.auditApproval,
	}, grants)
	if err != nil {
		return fmt.Errorf("app grants: %w", err)
	}
	a.apps.broker = b
	a.wg.Add(1)
	go a.grantSaver()
	return nil
}

// grantsChanged wakes the saver. A use changes the grants (count, last
// use) on every gated request, so requests never wait for the vault: a
// burst of them makes one save. A grant or revocation through the agent's
// methods is saved before they return; Close saves the last counts.
func (a *Agent) grantsChanged() {
	a.apps.changed.Store(true)
	select {
	case a.apps.dirty <- struct{}{}:
	default:
	}
}

// identifySupported is appid.Supported; a variable so that tests can take
// the other system's side.
var identifySupported = appid.Supported

// usesSaveEvery is the least time between two saves of the use counts
// alone: each save re-encrypts and fsyncs the whole vault, and a bot may
// sign several times a second. Grants and revocations are saved at once by
// the methods that make them, and Close saves the last counts.
const usesSaveEvery = 30 * time.Second

// grantSaver saves the grants when they changed, at most once every
// usesSaveEvery, until Close.
func (a *Agent) grantSaver() {
	defer a.wg.Done()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.apps.dirty:
		}
		if !a.saveGrants() {
			continue // saved already by the change's own method
		}
		rest, stop := a.clock.NewTimer(usesSaveEvery)
		select {
		case <-a.ctx.Done():
			stop()
			return
		case <-rest:
		}
	}
}

// saveGrants writes the broker's grants to the vault if they changed since
// the last save. A failure is logged: the grants in memory still hold, and
// the next save tries again. It reports whether it wrote.
func (a *Agent) saveGrants() bool {
	a.apps.save.Lock()
	defer a.apps.save.Unlock()
	if !a.apps.changed.Swap(false) {
		return false
	}
	data, err := approval.MarshalGrants(a.apps.broker.Grants())
	if err == nil {
		err = a.vault.Put(grantsKey, vault.Entry{Meta: json.RawMessage(data)})
		a.apps.saves.Add(1)
	}
	if err != nil {
		a.apps.changed.Store(true)
		a.log.Error("saving the app grants failed", "err", err)
	}
	return true
}

// auditApproval writes a broker decision to the activity log: op
// "approval", the decision in Method (used, granted, denied,
// approval_required, revoked, proposed …), the app's name as Exe.
func (a *Agent) auditApproval(ev approval.Event) {
	a.LogActivity(Activity{Exe: ev.App, Connection: ev.Connection, Op: "approval", Method: string(ev.Kind)})
}

// approveAppsKey is the vault entry that holds the approve_apps choice the
// tray app last ran with (approveChoice): the window's, else its default.
const approveAppsKey = "approve_apps"

// approveChoice is the stored approve_apps choice.
type approveChoice struct {
	On bool `json:"on"`
}

// startApproveApps decides whether approval is on at start:
//   - the tray app: the saved choice, else on; the default is saved at once,
//     so a headless agent started later on this vault keeps approval on too.
//     config.toml cannot turn it off.
//   - a headless agent: on when config.toml says so or the saved choice is
//     on. The file can turn approval on, never off a saved "on": only the
//     tray's window switches it off.
//
// An unreadable choice counts as on: asking errs on the safe side.
func (a *Agent) startApproveApps() bool {
	saved, ok := true, false
	if rec, found := a.vault.Get(approveAppsKey); found {
		var c approveChoice
		if err := json.Unmarshal(rec.Meta, &c); err != nil {
			a.log.Warn("vault: unreadable approve_apps choice; approval stays on", "err", err)
		} else {
			saved = c.On
		}
		ok = true
	}
	if a.cfg.TrayApp {
		if !ok {
			// Where apps cannot be identified, every request would be an
			// "Allow once" prompt: the default is off there.
			saved = identifySupported
			if err := a.putMeta(approveAppsKey, approveChoice{On: saved}); err != nil {
				a.log.Warn("saving approve_apps failed; the default holds for this run", "on", saved, "err", err)
			}
		}
		return saved
	}
	return a.cfg.ApproveApps || (ok && saved)
}

// ApproveApps reports whether token, sign and proxy need an app grant.
func (a *Agent) ApproveApps() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.settings.ApproveApps
}

// SetApproveApps turns app approval on or off and saves the choice
// (encrypted, in the vault), so that it holds at the next start. It is for
// the tray app's own window (in the same process) and tests; no socket call
// reaches it. On error nothing changes. The switch is written to the
// activity log.
func (a *Agent) SetApproveApps(on bool) error {
	a.mu.Lock()
	if err := a.putMeta(approveAppsKey, approveChoice{On: on}); err != nil {
		a.mu.Unlock()
		return err
	}
	was := a.settings.ApproveApps
	a.settings.ApproveApps = on
	a.mu.Unlock()
	if was != on {
		method := "approve_apps_off"
		if on {
			method = "approve_apps_on"
		}
		a.LogActivity(Activity{Op: "approval", Method: method})
	}
	return nil
}

// Approvals returns the broker, for the tray to subscribe, answer prompts
// and confirm proposals. Only a human's answer may reach it.
func (a *Agent) Approvals() *approval.Broker { return a.apps.broker }

// CheckApp decides whether app may use connection id (an id or a provider
// id: both name one connection, so one grant covers both) for op: nil lets
// it through; an *approval.Error refuses. With approval off it returns nil.
func (a *Agent) CheckApp(ctx context.Context, app appid.App, id, op string) error {
	if !a.ApproveApps() {
		return nil
	}
	real, err := a.resolveID(id)
	if err != nil {
		return err
	}
	return a.apps.broker.Check(ctx, approval.Request{App: app, Connection: real, Op: op})
}

// resolveID returns the real id of the connection id names.
func (a *Agent) resolveID(id string) (string, error) {
	c, err := a.find(id)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rec.ID, nil
}

// AppGrants returns the grants, oldest first.
func (a *Agent) AppGrants() []approval.Grant { return a.apps.broker.Grants() }

// RevokeApp removes grant id: the app is asked again.
func (a *Agent) RevokeApp(id string) error {
	if err := a.apps.broker.Revoke(id); err != nil {
		return fmt.Errorf("%w: app grant %q", ErrNotFound, id)
	}
	a.saveGrants()
	return nil
}

// ProposeApp queues a proposal for a human (`tokentray approve`): never a
// grant. connection, when set, is resolved to the real id.
func (a *Agent) ProposeApp(p approval.Proposal) (approval.Proposal, error) {
	if p.Connection != "" {
		real, err := a.resolveID(p.Connection)
		if err != nil {
			return approval.Proposal{}, err
		}
		p.Connection = real
	}
	q, err := a.apps.broker.Propose(p)
	if err != nil {
		return approval.Proposal{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return q, nil
}

// GrantApp records a human's decision d for app × connection id and saves
// it. It is for the tray's window and tests in the same process: no socket
// call reaches it.
func (a *Agent) GrantApp(app appid.App, id string, d approval.Decision) (approval.Grant, error) {
	real, err := a.resolveID(id)
	if err != nil {
		return approval.Grant{}, err
	}
	g, err := a.apps.broker.Grant(app, real, d)
	if err != nil {
		return approval.Grant{}, err
	}
	a.saveGrants()
	return g, nil
}

// AnswerPrompt records a human's answer to prompt id (the tray's buttons)
// and saves a grant it makes before returning.
func (a *Agent) AnswerPrompt(id string, ans approval.Answer) error {
	if err := a.apps.broker.Answer(id, ans); err != nil {
		return err
	}
	a.saveGrants()
	return nil
}

// ConfirmProposal grants app (identified at the proposed path) the
// connection after a human confirmed proposal id in the tray, and saves it.
func (a *Agent) ConfirmProposal(id string, app appid.App, connection string) (approval.Grant, error) {
	real, err := a.resolveID(connection)
	if err != nil {
		return approval.Grant{}, err
	}
	g, err := a.apps.broker.ConfirmProposal(id, app, real)
	if err != nil {
		return approval.Grant{}, err
	}
	a.saveGrants()
	return g, nil
}

// ScreenLocked ends the grants of interactive terminals (whoever sits at
// the keyboard may have changed) and writes the lock to the activity log:
// op "approval", method "screen_locked", the signal that reported it as
// Exe. The grants' end is saved before it returns.
func (a *Agent) ScreenLocked(source string) {
	a.LogActivity(Activity{Exe: source, Op: "approval", Method: "screen_locked"})
	a.apps.broker.DropTerminalGrants()
	a.saveGrants()
}
