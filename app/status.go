package app

import (
	"fmt"
	"slices"
	"time"

	"github.com/tokentray/tokentray/localapi"
)

// This file holds the pure text and classification helpers of the UI; they
// are tested without Fyne.

// defaultLifetime is a key's lifetime when the provider does not say (the
// EXchange's keys live 4 hours).
const defaultLifetime = 4 * time.Hour

// expiringSoon is how close to its expiry a key makes the tray say so.
const expiringSoon = 15 * time.Minute

// countdown is the time left of a key as people read it: "3h 12m left",
// "12m left", "45s left", "expired". Minutes and hours round down, so the
// text never promises more time than there is.
func countdown(now, expiresAt time.Time) string {
	if expiresAt.IsZero() {
		return "no key yet"
	}
	d := expiresAt.Sub(now)
	switch {
	case d <= 0:
		return "expired"
	case d < time.Minute:
		return fmt.Sprintf("%ds left", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm left", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm left", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %dh left", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
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
func lifetimeOf(p *localapi.Provider) time.Duration {
	if p != nil {
		if d, err := time.ParseDuration(p.DefaultLifetime); err == nil && d > 0 {
			return d
		}
	}
	return defaultLifetime
}

// stateWords says a connection's state in words for its card.
func stateWords(c localapi.Connection) string {
	switch c.State {
	case localapi.StateConnecting:
		return "Connecting…"
	case localapi.StateConnected:
		return "Connected; the key is refreshed before it expires"
	case localapi.StateRefreshing:
		return "Refreshing the key…"
	case localapi.StateExpired:
		return "The key expired; tokentray keeps trying to refresh it"
	case localapi.StateNeedsReconnect:
		return "Needs reconnect: the provider no longer accepts this connection"
	}
	return "Unknown state " + fmt.Sprintf("%q", c.State)
}

// needsUser reports whether a connection waits for the user to reconnect.
func needsUser(c localapi.Connection) bool {
	return c.State == localapi.StateNeedsReconnect || c.State == localapi.StateExpired
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
func scopeChips(offered []localapi.Scope, requested, granted []string) []chip {
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
func overallOf(conns []localapi.Connection, now time.Time) overall {
	if len(conns) == 0 {
		return overallEmpty
	}
	o := overallOK
	for _, c := range conns {
		switch {
		case needsUser(c):
			return overallAttention
		case c.State == localapi.StateRefreshing || c.State == localapi.StateConnecting,
			c.ExpiresAt.Sub(now) < expiringSoon:
			o = overallExpiring
		}
	}
	return o
}
