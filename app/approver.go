package app

import (
	"context"

	"github.com/tokentray/tokentray/internal/approval"
)

// Approver is the agent's app approval as the tray's window reaches it: in
// this process, never through the socket. A prompt's answer and a proposal's
// confirmation must come from a human at this window, and any program of the
// user's can make socket calls, so Run is handed the Approver directly
// (tray.go). It is nil when the tray attached to an agent in another process:
// then the window lists and revokes grants over the socket and cannot answer.
type Approver interface {
	// Subscribe makes the window an answerer: while subscribed, a request
	// without a grant waits (up to 60 s) for an answer instead of failing at
	// once. The channel receives whenever prompts or proposals change.
	Subscribe() (<-chan struct{}, func())
	// Pending lists the prompts waiting, oldest first.
	Pending() []approval.Prompt
	// Answer answers prompt id for every request waiting on it. A grant it
	// creates is saved before it returns.
	Answer(id string, a approval.Answer) error
	// Proposals lists what `tokentray approve` proposed, oldest first.
	Proposals() []approval.Proposal
	// ConfirmProposal grants the proposed app the connection, identifying
	// the app at the proposed path now (its content as it is today).
	ConfirmProposal(id, connection string) (approval.Grant, error)
	// DismissProposal drops a proposal without granting anything.
	DismissProposal(id string) error
	// ApproveApps reports whether token, sign and proxy need a grant.
	ApproveApps() bool
	// SetApproveApps switches approval on or off and remembers the choice.
	SetApproveApps(on bool) error
}

// ConfirmFunc asks the system to confirm that a human is at the keyboard
// before an "Always" (polkit: the user's password or fingerprint), so that a
// script's synthetic click cannot create a grant. It returns nil when the
// human confirmed. what says what is being confirmed.
type ConfirmFunc func(ctx context.Context, what string) error
