package agent

import (
	"sync"
	"time"

	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/oauthflow"
)

// The states of a connection (docs/socket-api.md).
const (
	StateConnecting     = "connecting"
	StateConnected      = "connected"
	StateRefreshing     = "refreshing"
	StateExpired        = "expired"
	StateNeedsReconnect = "needs_reconnect"
)

// Connection is a snapshot of one connected account, without its secrets.
type Connection struct {
	ID              string
	Provider        string
	ProviderName    string
	Label           string
	Account         string
	Fields          map[string]string
	ScopesGranted   []string
	ScopesRequested []string
	ExpiresAt       time.Time
	IssuedAt        time.Time
	State           string
	Generation      int64
	RawKeys         bool
	Default         bool // the connection a request naming the provider gets
	TokenFormat     string
	// LastError is the provider's or relay's text of the last failed refresh,
	// "" once a refresh succeeds.
	LastError string
}

// connRecord is what the vault keeps of a connection besides its secrets. It pins
// the provider profile the connection was made with (api_base, allowed_hosts,
// …), so that keys and signatures are served while the relay is down.
type connRecord struct {
	ID              string            `json:"id"`
	Provider        string            `json:"provider"`
	Local           bool              `json:"local,omitempty"` // a direct (relay-less) provider
	Label           string            `json:"label"`
	LabelByUser     bool              `json:"label_by_user,omitempty"`
	Account         string            `json:"account"`
	Fields          map[string]string `json:"fields"`
	ScopesGranted   []string          `json:"scopes_granted"`
	ScopesRequested []string          `json:"scopes_requested"`
	IssuedAt        time.Time         `json:"issued_at"`
	ExpiresAt       time.Time         `json:"expires_at"`
	Generation      int64             `json:"generation"`
	RawKeys         bool              `json:"raw_keys"`
	Default         bool              `json:"default,omitempty"` // named by the provider id when its provider has several
	NeedsReconnect  bool              `json:"needs_reconnect,omitempty"`
	// RefreshSent journals a refresh that may have reached the provider and
	// is not resolved yet: set, and saved, before the first call of a refresh
	// is sent; cleared, in the same save as the new keys, when an answer
	// resolves it. While it is set the refresh blob may be spent and the new
	// keys may exist only in the relay's answer cache, so the refresh is
	// retried with the same blob, first thing after a restart.
	RefreshSent time.Time `json:"refresh_sent,omitzero"`
	// Profile is the provider profile the connection was made with, pinned so
	// that keys, signatures and API calls work while the relay is down.
	Profile oauthflow.Provider `json:"profile"`
}

// lifetime is how long the current key lives in all.
func (r *connRecord) lifetime() time.Duration { return r.ExpiresAt.Sub(r.IssuedAt) }

// conn is a live connection: its connRecord, its hot key in locked memory and its
// sealed refresh in an enclave.
type conn struct {
	mu       sync.Mutex // guards the fields below
	rec      connRecord
	access   *memguard.LockedBuffer // the access token ("AK:SK" for peatio), open for the hot path
	sealed   *memguard.Enclave      // the same access token, sealed, for saving
	refresh  *memguard.Enclave      // the relay's sealed refresh blob, or a direct provider's refresh token
	flight   *flight                // the refresh in progress, if any
	lastErr  string                 // the text of the last failed refresh
	retryAt  time.Time              // when the scheduler tries a failed refresh again
	failures int                    // failed refreshes in a row, for the backoff
	removed  bool                   // revoked or closed: never saved again
}

// flight is one refresh in progress; waiters block on done.
type flight struct {
	done chan struct{}
	err  error
}

// snapshot returns the connection as callers see it. c.mu must be held.
func (c *conn) snapshot(now time.Time) Connection {
	r := c.rec
	return Connection{
		ID:              r.ID,
		Provider:        r.Provider,
		ProviderName:    r.Profile.Name,
		Label:           r.Label,
		Account:         r.Account,
		Fields:          cloneMap(r.Fields),
		ScopesGranted:   append([]string(nil), r.ScopesGranted...),
		ScopesRequested: append([]string(nil), r.ScopesRequested...),
		ExpiresAt:       r.ExpiresAt,
		IssuedAt:        r.IssuedAt,
		State:           c.state(now),
		Generation:      r.Generation,
		RawKeys:         r.RawKeys,
		Default:         r.Default,
		TokenFormat:     r.Profile.TokenFormat,
		LastError:       c.lastErr,
	}
}

// state derives the connection's state. c.mu must be held.
func (c *conn) state(now time.Time) string {
	switch {
	case c.rec.NeedsReconnect:
		return StateNeedsReconnect
	case c.flight != nil || !c.rec.RefreshSent.IsZero():
		return StateRefreshing
	case !now.Before(c.rec.ExpiresAt):
		return StateExpired
	default:
		return StateConnected
	}
}

// wipe destroys the connection's secrets in memory. c.mu must be held.
func (c *conn) wipe() {
	if c.access != nil {
		c.access.Destroy()
		c.access = nil
	}
	c.sealed, c.refresh = nil, nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
