package agent

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/vault"
)

// The vault keys the agent uses.
const (
	connPrefix    = "conn/"     // a connection: connRecord + secrets "access", "refresh"
	revokePrefix  = "revoke/"   // a revocation the provider has not confirmed yet: "revoke/ID" ends connection ID, "revoke/ID.RANDOM" an old grant of it
	providersKey  = "providers" // the relay's provider list, cached
	settingsKey   = "settings"
	secretAccess  = "access"
	secretRefresh = "refresh"
)

// load reads the connections, providers and settings from the vault. A
// connection whose revocation was journaled is dropped: a crash came between
// the journal and the wipe, and the revocation is sent again by Run.
func (a *Agent) load() error {
	for _, key := range a.vault.Keys(connPrefix) {
		rec, ok := a.vault.Get(key)
		if !ok {
			continue
		}
		c := &conn{}
		if err := json.Unmarshal(rec.Meta, &c.rec); err != nil {
			a.log.Error("vault: skipping an unreadable connection", "key", key, "err", err)
			continue
		}
		if a.revokedBeforeCrash(c.rec.ID) {
			a.log.Info("dropping a connection revoked before a crash", "connection", c.rec.ID)
			if err := a.vault.Delete(key); err != nil {
				a.log.Warn("dropping the revoked connection from the vault failed", "connection", c.rec.ID, "err", err)
			}
			continue
		}
		if !c.rec.RefreshSent.IsZero() {
			a.log.Info("a refresh was cut short; resolving it", "connection", c.rec.ID, "sent", c.rec.RefreshSent)
		}
		c.sealed, c.refresh = rec.Secrets[secretAccess], rec.Secrets[secretRefresh]
		if c.sealed == nil || c.refresh == nil {
			a.log.Error("vault: skipping a connection without its keys", "id", c.rec.ID)
			continue
		}
		hot, err := c.sealed.Open()
		if err != nil {
			return fmt.Errorf("open the key of connection %s: %w", c.rec.ID, err)
		}
		c.access = hot
		a.conns[c.rec.ID] = c
	}
	if rec, ok := a.vault.Get(providersKey); ok {
		if err := json.Unmarshal(rec.Meta, &a.providers); err != nil {
			a.log.Warn("vault: ignoring the unreadable provider cache", "err", err)
		}
	}
	a.settings = defaultSettings()
	if rec, ok := a.vault.Get(settingsKey); ok {
		if err := json.Unmarshal(rec.Meta, &a.settings); err != nil {
			a.log.Warn("vault: ignoring unreadable settings", "err", err)
		}
	}
	return nil
}

// revokedBeforeCrash reports whether the vault holds a journaled revocation
// of connection id.
func (a *Agent) revokedBeforeCrash(id string) bool {
	r, ok := a.vault.Get(revokePrefix + id)
	if !ok {
		return false
	}
	var p pendingRevocation
	return json.Unmarshal(r.Meta, &p) == nil && p.Connection && p.Record.ID == id
}

// saveConn writes the connection's connRecord and secrets; a connection that was
// revoked is never written again. c.mu must be held.
func (a *Agent) saveConn(c *conn) error {
	if c.removed {
		return fmt.Errorf("save connection %s: %w", c.rec.ID, ErrNotFound)
	}
	meta, err := json.Marshal(c.rec)
	if err != nil {
		return fmt.Errorf("encode connection: %w", err)
	}
	err = a.vault.Put(connPrefix+c.rec.ID, vault.Entry{
		Meta:    meta,
		Secrets: map[string]*memguard.Enclave{secretAccess: c.sealed, secretRefresh: c.refresh},
	})
	if err != nil {
		return fmt.Errorf("save connection %s: %w", c.rec.ID, err)
	}
	return nil
}

// putMeta writes a vault entry without secrets.
func (a *Agent) putMeta(key string, v any) error {
	meta, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	if err := a.vault.Put(key, vault.Entry{Meta: meta}); err != nil {
		return fmt.Errorf("save %s: %w", key, err)
	}
	return nil
}

// setKeys puts a new token's secrets into c, wiping the old ones. c.mu must be
// held. The token's strings stay in Go memory until collected: Go strings
// cannot be wiped, and oauthflow hands them over as strings.
func setKeys(c *conn, tok *oauthflow.Token) {
	if c.access != nil {
		c.access.Destroy()
	}
	c.access = memguard.NewBufferFromBytes([]byte(tok.AccessToken))
	c.sealed = memguard.NewEnclave([]byte(tok.AccessToken))
	c.refresh = memguard.NewEnclave([]byte(tok.RefreshCredential))
}

// readRefresh returns the refresh blob as a string for the relay call. c.mu
// must be held.
func readRefresh(c *conn) (string, error) {
	if c.refresh == nil {
		return "", fmt.Errorf("connection %s has no refresh token", c.rec.ID)
	}
	b, err := c.refresh.Open()
	if err != nil {
		return "", fmt.Errorf("open refresh token: %w", err)
	}
	defer b.Destroy()
	return strings.Clone(b.String()), nil // a Go string copy: the relay client takes strings
}
