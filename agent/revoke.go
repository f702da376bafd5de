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
	"github.com/tokentray/tokentray/relayproto"
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
// it locally. The revocation is journaled in the vault before the wipe, so
// that a crash at any instant after it is completed at the next start. The
// wipe happens even when the provider cannot be reached; the revocation is
// then retried in the background, across restarts, until the provider
// confirms it or the grant is known dead, and the result says so. When the
// journal cannot be saved nothing is changed and Revoke returns the error.
func (a *Agent) Revoke(ctx context.Context, id string) (RevokeResult, error) {
	c, err := a.find(id)
	if err != nil {
		return RevokeResult{}, err
	}
	// A journaled refresh may have rotated the keys: resolve it first, so
	// that the revocation sends the live refresh blob and not a spent one.
	c.mu.Lock()
	unresolved := !c.rec.RefreshSent.IsZero() && !c.rec.NeedsReconnect
	c.mu.Unlock()
	if unresolved {
		a.refresh(ctx, c, nil) // on failure the revocation is still journaled and retried
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
	if c.removed {
		c.mu.Unlock()
		return RevokeResult{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	rec, tok := c.rec, a.tokenOf(c)
	now := a.clock.Now()
	key := revokePrefix + rec.ID
	a.life.Lock()
	a.revoking[key], a.tried[key] = true, true // the scheduler leaves it to this call
	a.life.Unlock()
	defer func() {
		a.life.Lock()
		delete(a.revoking, key)
		a.life.Unlock()
		a.wake()
	}()
	p := pendingRevocation{Record: rec, Connection: true, QueuedAt: now, NextAt: now}
	if err := a.savePending(key, p, tok); err != nil {
		c.mu.Unlock()
		return RevokeResult{}, fmt.Errorf("journal the revocation (nothing was changed): %w", err)
	}
	snap := c.snapshot(now)
	c.wipe()
	c.removed = true
	c.mu.Unlock()

	a.mu.Lock()
	delete(a.conns, rec.ID)
	a.mu.Unlock()
	if err := a.vault.Delete(connPrefix + rec.ID); err != nil {
		// The journal hides the connection at the next start.
		a.log.Error("wiping the connection from the vault failed", "connection", rec.ID, "err", err)
	}

	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	err = a.revokeAtProvider(ctx, rec, tok)
	a.revocationAnswered(key, p, tok, err)
	res := RevokeResult{RevokedAtProvider: err == nil}
	switch {
	case err == nil:
		res.Message = fmt.Sprintf("revoked at %s and wiped here", rec.Profile.Name)
	case providerRefused(err):
		res.Message = fmt.Sprintf("wiped here; %s refused the revocation: %v", rec.Profile.Name, err)
	default:
		res.Message = fmt.Sprintf("wiped here; %s could not be reached (%v): tokentray will retry the revocation", rec.Profile.Name, err)
	}
	a.log.Info("revoked", "connection", rec.ID, "at_provider", res.RevokedAtProvider)
	// The object keeps its last state (docs/socket-api.md lists no "revoked" state):
	// the event's type says what happened.
	a.events.publish(Event{Type: EventRevoked, Connection: snap})
	return res, nil
}

// revokeAtProvider revokes tok through the relay or directly.
func (a *Agent) revokeAtProvider(ctx context.Context, rec connRecord, tok *oauthflow.Token) error {
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
	return errors.As(err, &oe) && oe.Source == relayproto.SourceProvider && oe.Code != "provider_unavailable"
}

// pendingRevocation is a revocation the provider has not confirmed yet.
type pendingRevocation struct {
	Record connRecord `json:"record"`
	// Connection says the revocation ends the connection Record.ID: its
	// connRecord, if a crash left it in the vault, is dropped at the next start.
	// False for the old grant of a connection that was connected again.
	Connection bool      `json:"connection,omitempty"`
	QueuedAt   time.Time `json:"queued_at"`
	NextAt     time.Time `json:"next_at"`
	Attempts   int       `json:"attempts"`
}

// queueRevocation stores a revocation of a grant the agent no longer uses
// (the old grant of a reconnected account, or one it could not name), to be
// sent by the scheduler at once and retried until the provider confirms it.
func (a *Agent) queueRevocation(rec connRecord, tok *oauthflow.Token) {
	now := a.clock.Now()
	p := pendingRevocation{Record: rec, QueuedAt: now, NextAt: now}
	if err := a.savePending(revokePrefix+rec.ID+"."+randomHex(4), p, tok); err != nil {
		a.log.Error("queueing a revocation failed; the grant may stay alive at the provider", "connection", rec.ID, "err", err)
	}
	a.wake()
}

// savePending writes a pending revocation under key, its secrets sealed.
func (a *Agent) savePending(key string, p pendingRevocation, tok *oauthflow.Token) error {
	meta, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode revocation: %w", err)
	}
	secrets := map[string]*memguard.Enclave{}
	if tok.AccessToken != "" {
		secrets[secretAccess] = memguard.NewEnclave([]byte(tok.AccessToken))
	}
	if tok.RefreshCredential != "" {
		secrets[secretRefresh] = memguard.NewEnclave([]byte(tok.RefreshCredential))
	}
	return a.vault.Put(key, vault.Entry{Meta: meta, Secrets: secrets})
}

// retryRevocations starts the pending revocations that are due, each pending
// one at once after a start, and returns when the next one is due.
func (a *Agent) retryRevocations(now time.Time) (time.Time, bool) {
	var next time.Time
	for _, key := range a.vault.Keys(revokePrefix) {
		r, ok := a.vault.Get(key)
		if !ok {
			continue
		}
		var p pendingRevocation
		if err := json.Unmarshal(r.Meta, &p); err != nil {
			a.log.Error("vault: dropping an unreadable pending revocation", "key", key, "err", err)
			a.vault.Delete(key)
			continue
		}
		a.life.Lock()
		busy, tried := a.revoking[key], a.tried[key]
		a.life.Unlock()
		if busy {
			continue
		}
		if tried && p.NextAt.After(now) {
			if next.IsZero() || p.NextAt.Before(next) {
				next = p.NextAt
			}
			continue
		}
		a.life.Lock()
		if a.stopping || a.revoking[key] {
			a.life.Unlock()
			continue
		}
		a.revoking[key], a.tried[key] = true, true
		a.wg.Add(1)
		a.life.Unlock()
		go a.retryRevocation(key, p, r)
	}
	return next, !next.IsZero()
}

func (a *Agent) retryRevocation(key string, p pendingRevocation, r vault.Entry) {
	defer a.wg.Done()
	defer func() {
		a.life.Lock()
		delete(a.revoking, key)
		a.life.Unlock()
		a.wake() // the revocation's next attempt is due at a new time
	}()
	tok := &oauthflow.Token{TokenType: p.Record.Profile.TokenFormat}
	tok.AccessToken, _ = openString(r.Secrets[secretAccess])
	tok.RefreshCredential, _ = openString(r.Secrets[secretRefresh])
	ctx, cancel := context.WithTimeout(a.ctx, revokeTimeout)
	defer cancel()
	err := a.revokeAtProvider(ctx, p.Record, tok)
	a.revocationAnswered(key, p, tok, err)
}

// revocationAnswered settles a pending revocation after an attempt: it is
// done when the provider confirmed it or refused it (the grant is most likely
// dead already) or after revokeGiveUp; otherwise it is saved with its next
// attempt due after a backoff.
func (a *Agent) revocationAnswered(key string, p pendingRevocation, tok *oauthflow.Token, err error) {
	now := a.clock.Now()
	p.Attempts++
	switch {
	case err == nil || providerRefused(err):
		a.log.Info("revocation done", "connection", p.Record.ID, "attempts", p.Attempts, "err", err)
		a.life.Lock()
		delete(a.tried, key)
		a.life.Unlock()
		if derr := a.vault.Delete(key); derr != nil {
			a.log.Warn("dropping a done revocation failed; it is sent again at the next start", "connection", p.Record.ID, "err", derr)
		}
	case now.Sub(p.QueuedAt) > revokeGiveUp:
		a.log.Warn("giving up a revocation", "connection", p.Record.ID, "attempts", p.Attempts, "err", err)
		a.vault.Delete(key)
	default:
		p.NextAt = now.Add(backoff(p.Attempts))
		a.log.Info("revocation not confirmed yet; will retry", "connection", p.Record.ID, "next_at", p.NextAt, "err", err)
		if serr := a.savePending(key, p, tok); serr != nil {
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
