package app

import (
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localclient"
)

// This file holds the pure text and classification helpers of the UI; they
// are tested without a window (widget.Importance is only a number).

// defaultLifetime is a key's lifetime when the provider does not say (the
// EXchange's keys live 4 hours).
const defaultLifetime = 4 * time.Hour

// expiringSoon is how close to its expiry a key makes the tray say so.
const expiringSoon = 15 * time.Minute

// agoText says how long ago t was: "just now", "4 min ago", "2 h 5 min ago".
func agoText(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %d min ago", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d d ago", int(d/(24*time.Hour)))
}

// remaining is the share of the key's lifetime still left, in [0, 1], for
// the progress bar.
func remaining(now, expiresAt time.Time, lifetime time.Duration) float64 {
	if expiresAt.IsZero() || lifetime <= 0 {
		return 0
	}
	f := float64(expiresAt.Sub(now)) / float64(lifetime)
	return min(max(f, 0), 1)
}

// lifetimeOf reads a provider's default_lifetime, or the default.
func lifetimeOf(p *localclient.Provider) time.Duration {
	if p != nil {
		if d, err := time.ParseDuration(p.DefaultLifetime); err == nil && d > 0 {
			return d
		}
	}
	return defaultLifetime
}

// statusLine is the one status line of a card: the connection's state, the
// last error of an action on it (lastErr, a sentence, "" when none or
// cleared by a later success) and when its key was refreshed. agentGone
// overrides everything: nothing is known while the agent is unreachable.
func statusLine(c localclient.Connection, lastErr string, now time.Time, lifetime time.Duration, agentGone bool) (string, widget.Importance) {
	if agentGone {
		return "Unknown while the tokentray agent is not answering.", widget.LowImportance
	}
	refreshed := ""
	if !c.ExpiresAt.IsZero() && lifetime > 0 {
		refreshed = "refreshed " + agoText(now, c.ExpiresAt.Add(-lifetime))
	}
	switch c.State {
	case localclient.StateNeedsReconnect:
		return "Needs reconnect: the provider no longer accepts this connection. Press Reconnect to sign in again.", widget.WarningImportance
	case localclient.StateExpired:
		if lastErr != "" {
			return "The key expired and could not be refreshed. " + lastErr, widget.DangerImportance
		}
		return "The key expired; tokentray keeps trying to refresh it.", widget.WarningImportance
	case localclient.StateRefreshing:
		return "Refreshing the key…", widget.MediumImportance
	case localclient.StateConnecting:
		return "Connecting…", widget.MediumImportance
	case localclient.StateConnected:
		if lastErr != "" {
			return "Connected, but the last action failed. " + lastErr, widget.WarningImportance
		}
		if refreshed != "" {
			return "Connected, " + refreshed + "; the key is refreshed before it expires.", widget.MediumImportance
		}
		return "Connected; the key is refreshed before it expires.", widget.MediumImportance
	}
	return fmt.Sprintf("Unknown state %q.", c.State), widget.WarningImportance
}

// needsUser reports whether a connection waits for the user to reconnect.
func needsUser(c localclient.Connection) bool {
	return c.State == localclient.StateNeedsReconnect || c.State == localclient.StateExpired
}

// chipKind classifies one scope on a card.
type chipKind int

const (
	chipGranted      chipKind = iota // asked for and granted
	chipNotGranted                   // asked for, but the provider did not grant it
	chipNotRequested                 // offered by the provider, not asked for
)

// chip is one scope as the card shows it.
type chip struct {
	Name string
	Kind chipKind
}

// Text is the chip's label.
func (c chip) Text() string {
	switch c.Kind {
	case chipGranted:
		return "✓ " + c.Name
	case chipNotGranted:
		return "⚠ " + c.Name + " (not granted)"
	}
	return c.Name
}

// scopeChips classifies the scopes of a connection: those the provider
// offers in its order, then any others the connection names. A scope granted
// without being requested counts as granted.
func scopeChips(offered []localclient.Scope, requested, granted []string) []chip {
	var names []string
	for _, s := range offered {
		names = append(names, s.Name)
	}
	for _, n := range append(slices.Clone(requested), granted...) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	chips := make([]chip, 0, len(names))
	for _, n := range names {
		k := chipNotRequested
		switch {
		case slices.Contains(granted, n):
			k = chipGranted
		case slices.Contains(requested, n):
			k = chipNotGranted
		}
		chips = append(chips, chip{Name: n, Kind: k})
	}
	return chips
}

// overall is the state of all connections together; it picks the tray icon.
type overall int

const (
	overallEmpty     overall = iota // nothing connected
	overallOK                       // every key fresh
	overallExpiring                 // a key is refreshing or expires soon
	overallAttention                // a connection needs the user
)

func (o overall) String() string {
	return [...]string{"nothing connected", "all good", "expiring soon", "needs attention"}[o]
}

// overallOf classifies conns at now: the worst connection wins.
func overallOf(conns []localclient.Connection, now time.Time) overall {
	if len(conns) == 0 {
		return overallEmpty
	}
	o := overallOK
	for _, c := range conns {
		switch {
		case needsUser(c):
			return overallAttention
		case c.State == localclient.StateRefreshing || c.State == localclient.StateConnecting,
			c.ExpiresAt.Sub(now) < expiringSoon:
			o = overallExpiring
		}
	}
	return o
}

// nextChange is how long after now a card showing c (its key living
// lifetime) next looks different: the countdown's minute or, in its last
// minute, its second; the bar's next step of lifetime/barSteps; the
// "refreshed … ago" minute. The window's countdown timer waits this long
// instead of ticking every second. It is at least a millisecond and at most
// a minute.
func nextChange(now time.Time, c localclient.Connection, lifetime time.Duration) time.Duration {
	next := time.Minute
	soonest := func(d time.Duration) { next = min(next, max(d, time.Millisecond)) }
	if c.ExpiresAt.IsZero() {
		return next
	}
	// The countdown rounds down: it changes when left passes a whole
	// minute, or a whole second in the last minute.
	switch left := c.ExpiresAt.Sub(now); {
	case left > time.Minute:
		soonest(left % time.Minute)
	case left > 0:
		soonest(left % time.Second)
	}
	if lifetime <= 0 {
		return next
	}
	// The bar rounds to the nearest step: it moves when left passes a half
	// step.
	if step, left := lifetime/barSteps, c.ExpiresAt.Sub(now); step > 0 && left > step/2 && left < lifetime {
		soonest((left - step/2) % step)
	}
	// "refreshed 4 min ago" changes when a whole minute has passed.
	if ago := now.Sub(c.ExpiresAt.Add(-lifetime)); ago < 0 {
		soonest(time.Minute - ago)
	} else {
		soonest(time.Minute - ago%time.Minute)
	}
	return next
}
