package agentd

import (
	"fmt"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
)

// Approver is app approval for the tray's window in this process (the
// app.Approver interface): the broker's prompts and proposals, answered by a
// human. Nothing on the socket reaches it.
type Approver struct {
	d   *Daemon
	ids *appid.Identifier
}

// Approver returns the in-process approval for the tray's window.
func (d *Daemon) Approver() *Approver {
	return &Approver{d: d, ids: appid.New(appid.Config{CLIExecutables: cliExecutables()})}
}

func (p *Approver) broker() *approval.Broker { return p.d.Agent.Approvals() }

// Subscribe makes the caller an answerer (approval.Broker.Subscribe).
func (p *Approver) Subscribe() (<-chan struct{}, func()) { return p.broker().Subscribe() }

// Pending lists the prompts waiting, oldest first.
func (p *Approver) Pending() []approval.Prompt { return p.broker().Pending() }

// Answer answers prompt id; a grant it makes is saved before it returns.
func (p *Approver) Answer(id string, a approval.Answer) error {
	return p.d.Agent.AnswerPrompt(id, a)
}

// Proposals lists the proposals waiting, oldest first.
func (p *Approver) Proposals() []approval.Proposal { return p.broker().Proposals() }

// DismissProposal drops proposal id without granting anything.
func (p *Approver) DismissProposal(id string) error { return p.broker().DismissProposal(id) }

// ConfirmProposal identifies the app at the proposed path as it is now and
// grants it the connection.
func (p *Approver) ConfirmProposal(id, connection string) (approval.Grant, error) {
	var path string
	for _, q := range p.broker().Proposals() {
		if q.ID == id {
			path = q.Exe + q.Script
		}
	}
	if path == "" {
		return approval.Grant{}, fmt.Errorf("proposal %s: %w", id, approval.ErrNotFound)
	}
	app, err := p.ids.IdentifyFile(path)
	if err != nil {
		return approval.Grant{}, fmt.Errorf("identify %s: %w", path, err)
	}
	return p.d.Agent.ConfirmProposal(id, app, connection)
}

// ApproveApps reports whether token, sign and proxy need a grant.
func (p *Approver) ApproveApps() bool { return p.d.Agent.ApproveApps() }

// SetApproveApps switches approval on or off and saves the choice in the
// vault: the tray app starts with it next time.
func (p *Approver) SetApproveApps(on bool) error {
	if err := p.d.Agent.SetApproveApps(on); err != nil {
		return fmt.Errorf("approve_apps: %w", err)
	}
	return nil
}
