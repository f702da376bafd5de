package approval

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
)

// Proposal asks a human to approve an app (`tokentray approve`, POST
// /v1/apps/proposals). It is never a grant by itself.
type Proposal struct {
	ID         string
	Exe        string // an absolute executable path, or
	Script     string // an absolute script path
	Connection string // "" when the proposer named none: the human picks
	Created    time.Time
}

// Propose queues p for the human and returns it with its id. An identical
// proposal already waiting is returned instead of a new one.
func (b *Broker) Propose(p Proposal) (Proposal, error) {
	if (p.Exe == "") == (p.Script == "") {
		return Proposal{}, fmt.Errorf("%w: give exactly one of exe and script", ErrBadProposal)
	}
	if path := p.Exe + p.Script; !filepath.IsAbs(path) || filepath.Clean(path) != path {
		return Proposal{}, fmt.Errorf("%w: the path must be absolute and clean", ErrBadProposal)
	}
	now := b.cfg.Clock.Now()
	b.mu.Lock()
	for _, q := range b.proposals {
		if q.Exe == p.Exe && q.Script == p.Script && q.Connection == p.Connection {
			b.mu.Unlock()
			return q, nil
		}
	}
	if len(b.proposals) >= b.cfg.MaxProposals {
		b.mu.Unlock()
		return Proposal{}, ErrTooManyProposals
	}
	p.ID, p.Created = newID(), now
	b.proposals = append(b.proposals, p)
	b.mu.Unlock()
	b.emit([]Event{{Time: now, Kind: EventProposed, App: p.Exe + p.Script, Connection: p.Connection}}, false)
	b.notify()
	return p, nil
}

// Proposals returns the proposals waiting for a human, oldest first.
func (b *Broker) Proposals() []Proposal {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Proposal(nil), b.proposals...)
}

// DismissProposal drops proposal id without granting anything.
func (b *Broker) DismissProposal(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, q := range b.proposals {
		if q.ID == id {
			b.proposals = append(b.proposals[:i], b.proposals[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("approval: proposal %s: %w", id, ErrNotFound)
}

// ConfirmProposal grants app the connection after a human confirmed proposal
// id in the tray; app is what the tray identified at the proposed path, and
// connection must be the proposal's when it named one. Only the tray's
// confirmation may call it.
func (b *Broker) ConfirmProposal(id string, app appid.App, connection string) (Grant, error) {
	if !app.Grantable() {
		return Grant{}, errNotGrantable
	}
	now := b.cfg.Clock.Now()
	b.mu.Lock()
	i := -1
	for j, q := range b.proposals {
		if q.ID == id {
			i = j
		}
	}
	if i < 0 {
		b.mu.Unlock()
		return Grant{}, fmt.Errorf("approval: proposal %s: %w", id, ErrNotFound)
	}
	q := b.proposals[i]
	switch {
	case connection == "" || q.Connection != "" && q.Connection != connection:
		b.mu.Unlock()
		return Grant{}, fmt.Errorf("%w: connection %q, proposed %q", ErrBadProposal, connection, q.Connection)
	case q.Exe != "" && (app.Exe != q.Exe || app.Script != ""), q.Script != "" && app.Script != q.Script:
		b.mu.Unlock()
		return Grant{}, fmt.Errorf("%w: the app is not the proposed one", ErrBadProposal)
	}
	b.proposals = append(b.proposals[:i], b.proposals[i+1:]...)
	req := Request{App: app, Connection: connection}
	g := *b.put(req, Always, now)
	b.mu.Unlock()
	b.emit([]Event{b.event(now, EventGranted, req)}, true)
	b.notify()
	return g, nil
}

// errNotGrantable is returned by ConfirmProposal for an app without a key.
var errNotGrantable = errors.New("approval: the app cannot be identified, so it cannot be granted")
