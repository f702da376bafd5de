// Package approval decides whether an app may use a connection: it keeps the
// grants (app key × connection → always or deny), holds each request that has
// none until a human answers in the tray or the wait times out, and queues
// proposals for the human to confirm. It has no GUI and no storage of its
// own: the tray answers through Subscribe, Pending and Answer, and the agent
// keeps the grants (MarshalGrants) wherever it keeps secrets.
//
// # Security model
//
// Only a human's answer creates a grant: Answer with AnswerAlways, or
// ConfirmProposal, both meant for the tray's buttons and nothing a socket
// request can reach. A proposal is a note for the human, never a grant. No
// answerer, no answer in time, or an app without a key (appid.Unidentified)
// all end in "approval required", never in "allowed"; an unidentified app can
// at most be allowed once. A changed script or user-writable binary has
// another key, so it is asked about again.
package approval

import (
	"errors"
	"fmt"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
)

// Decision is what a grant says.
type Decision string

// The decisions a grant can hold.
const (
	Always Decision = "always" // the app may use the connection
	Deny   Decision = "deny"   // the app is refused without asking
)

// Answer is the human's answer to a prompt.
type Answer int

// The answers the tray offers.
const (
	AnswerOnce   Answer = iota + 1 // allow the waiting requests; no grant
	AnswerAlways                   // allow and grant (once only for an app without a key)
	AnswerDeny                     // refuse and remember the refusal (for an app with a key)
)

// Error codes, as the socket API names them.
const (
	CodeApprovalRequired = "approval_required"
	CodeDenied           = "denied"
)

// Sentinel errors callers branch on; an *Error matches one of them with errors.Is.
var (
	ErrApprovalRequired = errors.New("approval required")
	ErrDenied           = errors.New("denied")
	ErrNotFound         = errors.New("approval: not found")
	ErrBadProposal      = errors.New("approval: bad proposal")
	ErrTooManyProposals = errors.New("approval: too many proposals waiting")
)

// Error is a refusal: Code is CodeApprovalRequired or CodeDenied, and the
// message names the app and how to approve it.
type Error struct {
	Code       string
	App        string // the app as a person reads it: "python3 bot.py (/home/u/bot.py)"
	Connection string
	Reason     string // why no approval: "no tray is running to ask", "no answer within 1m0s" …
	Hint       string // how to approve it
}

// Error returns the message: the app, the connection, why and how to approve it.
func (e *Error) Error() string {
	if e.Code == CodeDenied {
		return fmt.Sprintf("%s was denied the connection %q (revoke the decision in the Apps tab to be asked again)", e.App, e.Connection)
	}
	return fmt.Sprintf("%s is not approved for the connection %q: %s; %s", e.App, e.Connection, e.Reason, e.Hint)
}

// Is makes an Error match ErrApprovalRequired or ErrDenied.
func (e *Error) Is(target error) bool {
	return target == ErrApprovalRequired && e.Code == CodeApprovalRequired ||
		target == ErrDenied && e.Code == CodeDenied
}

// Clock is the time source; fakeclock.Clock is one.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Config configures a Broker. Zero fields take the defaults given.
type Config struct {
	// Timeout is how long a request waits for an answer. Default 60 s.
	Timeout time.Duration
	// TerminalTTL is how long an "Always" for an interactive terminal lasts
	// (DropTerminalGrants ends it earlier, when the screen locks). Default 4 h.
	TerminalTTL time.Duration
	// MaxProposals bounds the proposals waiting for a human. Default 32.
	MaxProposals int
	// MaxPrompts bounds the distinct prompts waiting; a request that would
	// open one more gets approval_required at once. Default 64.
	MaxPrompts int
	// Clock is the time source. Default the system clock.
	Clock Clock
	// OnChange, if set, is called after the grants change (created, used,
	// revoked, expired), outside the broker's lock, so the owner can store
	// them. It may be called often.
	OnChange func()
	// Audit, if set, is called for every decision, outside the broker's lock.
	Audit func(Event)
}

// EventKind names what an audit Event records.
type EventKind string

// The kinds of audit event.
const (
	EventUsed             EventKind = "used"              // a grant let a request through
	EventAllowedOnce      EventKind = "allowed_once"      // a human allowed once
	EventGranted          EventKind = "granted"           // a human said Always
	EventDenied           EventKind = "denied"            // a human or a deny grant refused
	EventApprovalRequired EventKind = "approval_required" // no answerer or no answer in time
	EventRevoked          EventKind = "revoked"           // a grant was revoked or expired
	EventProposed         EventKind = "proposed"          // a proposal was queued
)

// Event is one line of the audit trail.
type Event struct {
	Time       time.Time
	Kind       EventKind
	App        string // the app's name
	Key        string // the app's key; "" for an unidentified app
	Connection string
}

// Request is a request for a connection's key that needs an approval.
type Request struct {
	App        appid.App
	Connection string // the connection's id
	Op         string // what the app wants: "token", "sign", "proxy"
}

// describe names the app in a message.
func describe(a appid.App) string {
	switch {
	case a.Kind == appid.Unidentified:
		return fmt.Sprintf("an app that cannot be identified (%s: %s)", a.Name, a.Reason)
	case a.Script != "":
		return fmt.Sprintf("%s (%s)", a.Name, a.Script)
	case a.Exe != "" && a.Kind == appid.Binary:
		return fmt.Sprintf("%s (%s)", a.Name, a.Exe)
	default:
		return a.Name
	}
}

// reasonNoTray is the Reason of an approval_required when no tray app runs
// this agent to ask.
const reasonNoTray = "no tray is running to ask"

// hint says how to approve a, refused for reason. Without a tray (a
// headless agent) neither the tray's prompt nor a proposal can approve
// anything until the tray app runs the agent, so the hint says so.
func hint(a appid.App, conn, reason string) string {
	const startTray = "start the tray app (tokentray with no arguments runs the agent and asks; " +
		"stop a headless tokentray agent first: grants are kept in the vault and hold when it starts again, " +
		"see App approval in docs/config.md)"
	var propose string
	switch {
	case a.Script != "":
		propose = fmt.Sprintf("tokentray approve %s --connection %s", a.Script, conn)
	case a.Kind == appid.Binary:
		propose = fmt.Sprintf("tokentray approve %s --connection %s", a.Exe, conn)
	}
	switch {
	case reason == reasonNoTray && !a.Grantable():
		return "it can only be allowed once, when the tray asks: " + startTray + " and run it again"
	case reason == reasonNoTray && propose != "":
		return "to approve it, " + startTray + ", then run it again and answer Always, or propose it with: " +
			propose + " and confirm it in the tray's Apps tab"
	case reason == reasonNoTray:
		return "to approve it, " + startTray + ", then run it again and answer Always"
	case !a.Grantable():
		return "it can only be allowed once, when the tray asks"
	case propose != "":
		return "approve it in the tray, or propose it with: " + propose
	default:
		return "approve it in the tray"
	}
}
