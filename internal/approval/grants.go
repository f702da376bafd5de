package approval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tokentray/tokentray/internal/appid"
)

// Grant is a human's lasting decision for an app key × connection.
type Grant struct {
	ID         string    `json:"id"`
	Key        string    `json:"key"`              // appid.App.Key
	App        string    `json:"app"`              // the app's name when granted
	Exe        string    `json:"exe,omitempty"`    // its executable (the interpreter for a script)
	Script     string    `json:"script,omitempty"` // its script
	Connection string    `json:"connection"`
	Decision   Decision  `json:"decision"`
	Created    time.Time `json:"created"`
	LastUsed   time.Time `json:"last_used,omitzero"`
	Uses       int       `json:"uses"`
	Expires    time.Time `json:"expires,omitzero"` // set for an interactive terminal
}

// grantsFile is the stored form of the grants.
type grantsFile struct {
	Version int     `json:"version"`
	Grants  []Grant `json:"grants"`
}

// grantsVersion is the version MarshalGrants writes and UnmarshalGrants reads.
const grantsVersion = 1

// MarshalGrants encodes grants for storage (the vault).
func MarshalGrants(grants []Grant) ([]byte, error) {
	if grants == nil {
		grants = []Grant{}
	}
	b, err := json.Marshal(grantsFile{Version: grantsVersion, Grants: grants})
	if err != nil {
		return nil, fmt.Errorf("approval: encode grants: %w", err)
	}
	return b, nil
}

// UnmarshalGrants decodes what MarshalGrants wrote, refusing unknown fields,
// other versions and invalid grants.
func UnmarshalGrants(data []byte) ([]Grant, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f grantsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("approval: decode grants: %w", err)
	}
	if f.Version != grantsVersion {
		return nil, fmt.Errorf("approval: grants version %d, want %d", f.Version, grantsVersion)
	}
	if err := validGrants(f.Grants); err != nil {
		return nil, err
	}
	return f.Grants, nil
}

// validGrants checks each grant is complete and no two share an id or an
// app key × connection.
func validGrants(grants []Grant) error {
	ids := map[string]bool{}
	keys := map[grantKey]bool{}
	for i, g := range grants {
		switch {
		case g.ID == "" || g.Key == "" || g.Connection == "":
			return fmt.Errorf("approval: grant %d: missing id, key or connection", i)
		case g.Decision != Always && g.Decision != Deny:
			return fmt.Errorf("approval: grant %d: decision %q", i, g.Decision)
		case ids[g.ID] || keys[grantKey{g.Key, g.Connection}]:
			return fmt.Errorf("approval: grant %d: duplicate", i)
		case g.Uses < 0:
			return fmt.Errorf("approval: grant %d: negative uses", i)
		}
		ids[g.ID], keys[grantKey{g.Key, g.Connection}] = true, true
	}
	return nil
}

// Grants returns a copy of the grants, oldest first.
func (b *Broker) Grants() []Grant {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Grant, 0, len(b.grants))
	for _, g := range b.grants {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(x, y Grant) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return compareStrings(x.ID, y.ID)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Revoke removes the grant id (an always or a deny): the app is asked again.
func (b *Broker) Revoke(id string) error {
	b.mu.Lock()
	var found *Grant
	for k, g := range b.grants {
		if g.ID == id {
			found = g
			delete(b.grants, k)
		}
	}
	b.mu.Unlock()
	if found == nil {
		return fmt.Errorf("approval: grant %s: %w", id, ErrNotFound)
	}
	b.emit([]Event{{Time: b.cfg.Clock.Now(), Kind: EventRevoked, App: found.App, Key: found.Key, Connection: found.Connection}}, true)
	return nil
}

// DropTerminalGrants removes every grant that expires (those of interactive
// terminals): call it when the screen locks.
func (b *Broker) DropTerminalGrants() {
	b.mu.Lock()
	var dropped []Event
	now := b.cfg.Clock.Now()
	for k, g := range b.grants {
		if !g.Expires.IsZero() {
			delete(b.grants, k)
			dropped = append(dropped, Event{Time: now, Kind: EventRevoked, App: g.App, Key: g.Key, Connection: g.Connection})
		}
	}
	b.mu.Unlock()
	b.emit(dropped, len(dropped) > 0)
}

// Grant records a human's decision d for app × connection, replacing any
// grant it had there, as Answer does for a prompt. It is for the tray's own
// screens (an app picked in the window) and for tests: only code in the
// agent's process that acts on a human's choice may call it.
func (b *Broker) Grant(app appid.App, connection string, d Decision) (Grant, error) {
	switch {
	case !app.Grantable():
		return Grant{}, errNotGrantable
	case connection == "":
		return Grant{}, fmt.Errorf("%w: no connection", ErrBadProposal)
	case d != Always && d != Deny:
		return Grant{}, fmt.Errorf("approval: decision %q", d)
	}
	now := b.cfg.Clock.Now()
	req := Request{App: app, Connection: connection}
	b.mu.Lock()
	g := b.put(req, d, now)
	if d == Always && app.Kind == appid.Terminal {
		g.Expires = now.Add(b.cfg.TerminalTTL)
	}
	out := *g
	b.mu.Unlock()
	kind := EventGranted
	if d == Deny {
		kind = EventDenied
	}
	b.emit([]Event{b.event(now, kind, req)}, true)
	return out, nil
}
