package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/vault"
)

// revokeTimeout bounds one revocation call; revokeGiveUp is how long an
// unconfirmed revocation is retried (a grant may outlive its access key).
const (
	revokeTimeout = 15 * time.Second
	revokeGiveUp  = 30 * 24 * time.Hour
)

// RevokeResult says what happened at the provider; the local wipe always
// happens.
type RevokeResult struct {
	RevokedAtProvider bool
	Message           string
}

// Revoke revokes a connection at the provider (through the relay) and wipes
// it locally. The wipe happens even when the provider cannot be reached; the
// revocation is then retried in the background while the grant may still
// live, and the result says so.
func (a *Agent) Revoke(ctx context.Context, id string) (RevokeResult, error) {
	c, err := a.find(id)
	if err != nil {
		return RevokeResult{}, err
	}
	c.mu.Lock()
	// A refresh in flight is about to replace the refresh blob: wait for it,
	// so that the revocation sends the live one.
	for c.flight != nil {
		f := c.flight
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return RevokeResult{}, ctx.Err()
		}
		c.mu.Lock()
	}
	rec, tok := c.rec, a.tokenOf(c)
	snap := c.snapshot(a.clock.Now())
	c.wipe()
	c.mu.Unlock()

	a.mu.Lock()
	delete(a.conns, rec.ID)
	a.mu.Unlock()
	if err := a.vault.Delete(connPrefix + rec.ID); err != nil {
		a.log.Error("wiping the connection from the vault failed", "connection", rec.ID, "err", err)
	}

	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	err = a.revokeAtProvider(ctx, rec, tok)
	res := RevokeResult{RevokedAtProvider: err == nil}
	switch {
	case err == nil:
		res.Message = fmt.Sprintf("revoked at %s and wiped here", rec.Profile.Name)
	case providerRefused(err):
		res.Message = fmt.Sprintf("wiped here; %s refused the revocation: %v", rec.Profile.Name, err)
	default:
		a.queueRevocation(rec, tok)
		res.Message = fmt.Sprintf("wiped here; %s could not be reached (%v): tokentray will retry the revocation", rec.Profile.Name, err)
	}
	a.log.Info("revoked", "connection", rec.ID, "at_provider", res.RevokedAtProvider)
	// The object keeps its last state (CONTRACTS §4 lists no "revoked" state):
	// the event's type says what happened.
	a.events.publish(Event{Type: EventRevoked, Connection: snap})
	return res, nil
}

// revokeAtProvider revokes tok through the relay or directly.
func (a *Agent) revokeAtProvider(ctx context.Context, rec record, tok *oauthflow.Token) error {
	if rec.Local {
		return a.revokeDirect(ctx, rec, tok)
	}
	if a.relay == nil {
		return ErrNoRelay
	}
	return a.relay.Revoke(ctx, rec.Profile, tok)
}

// providerRefused reports whether the provider answered the revocation with a
// refusal (the grant is most likely gone already), as opposed to not
// answering at all.
func providerRefused(err error) bool {
	var oe *oauthflow.Error
	return errors.As(err, &oe) && oe.Source == oauthflow.SourceProvider && oe.Code != "provider_unavailable"
}

// pendingRevocation is a revocation the provider has not confirmed yet.
type pendingRevocation struct {
	Record   record    `json:"record"`
	QueuedAt time.Time `json:"queued_at"`
	NextAt   time.Time `json:"next_at"`
	Attempts int       `json:"attempts"`
}

// queueRevocation stores a revocation to retry later, secrets in the vault.
func (a *Agent) queueRevocation(rec record, tok *oauthflow.Token) {
	now := a.clock.Now()
	p := pendingRevocation{Record: rec, QueuedAt: now, NextAt: now}
	if err := a.savePending(p, tok); err != nil {
		a.log.Error("queueing a revocation failed; the grant may stay alive at the provider", "connection", rec.ID, "err", err)
	}
	a.wake()
}

func (a *Agent) savePending(p pendingRevocation, tok *oauthflow.Token) error {
	meta, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode revocation: %w", err)
	}
	return a.vault.Put(revokePrefix+p.Record.ID, vault.Record{Meta: meta, Secrets: map[string]*memguard.Enclave{
		secretAccess:  memguard.NewEnclave([]byte(tok.AccessToken)),
		secretRefresh: memguard.NewEnclave([]byte(tok.Refresh)),
	}})
}

// retryRevocations starts the pending revocations that are due and returns
// when the next one is.
func (a *Agent) retryRevocations(now time.Time) (time.Time, bool) {
	var next time.Time
	for _, key := range a.vault.Keys(revokePrefix) {
		r, ok := a.vault.Get(key)
		if !ok {
			continue
		}
		var p pendingRevocation
		if err := json.Unmarshal(r.Meta, &p); err != nil {
			a.vault.Delete(key)
			continue
		}
		if p.NextAt.After(now) {
			if next.IsZero() || p.NextAt.Before(next) {
				next = p.NextAt
			}
			continue
		}
		p.NextAt = now.Add(max(backoff(p.Attempts+1), 10*time.Minute))
		a.mu.Lock()
		if a.ctx.Err() != nil || a.revoking[key] {
			a.mu.Unlock()
			continue
		}
		a.revoking[key] = true
		a.wg.Add(1)
		a.mu.Unlock()
		go a.retryRevocation(key, p, r)
	}
	return next, !next.IsZero()
}

func (a *Agent) retryRevocation(key string, p pendingRevocation, r vault.Record) {
	defer a.wg.Done()
	defer func() {
		a.mu.Lock()
		delete(a.revoking, key)
		a.mu.Unlock()
		a.wake() // the record's next attempt is due at a new time
	}()
	tok := &oauthflow.Token{TokenType: p.Record.Profile.TokenFormat}
	tok.AccessToken, _ = openString(r.Secrets[secretAccess])
	tok.Refresh, _ = openString(r.Secrets[secretRefresh])
	ctx, cancel := context.WithTimeout(a.ctx, revokeTimeout)
	defer cancel()
	err := a.revokeAtProvider(ctx, p.Record, tok)
	p.Attempts++
	switch {
	case err == nil || providerRefused(err):
		a.log.Info("pending revocation done", "connection", p.Record.ID, "attempts", p.Attempts, "err", err)
		a.vault.Delete(key)
	case a.clock.Now().Sub(p.QueuedAt) > revokeGiveUp:
		a.log.Warn("giving up a revocation", "connection", p.Record.ID, "attempts", p.Attempts, "err", err)
		a.vault.Delete(key)
	default:
		a.log.Info("revocation not confirmed yet; will retry", "connection", p.Record.ID, "next_at", p.NextAt, "err", err)
		if serr := a.savePending(p, tok); serr != nil {
			a.log.Error("saving a pending revocation failed", "connection", p.Record.ID, "err", serr)
		}
	}
}

// openString returns an enclave's content as a Go string (a copy that cannot
// be wiped; the oauthflow calls take strings).
func openString(e *memguard.Enclave) (string, error) {
	if e == nil {
		return "", errors.New("no secret")
	}
	b, err := e.Open()
	if err != nil {
		return "", fmt.Errorf("open secret: %w", err)
	}
	defer b.Destroy()
	return strings.Clone(b.String()), nil
}
