package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// refreshTimeout bounds one refresh call through the relay.
const refreshTimeout = time.Minute

// Refresh refreshes a connection's key now. With ifGeneration set it
// refreshes only if that generation is still current: a script that saw its
// key die sends the generation it used, so that a burst of such reports makes
// one refresh, not many. Otherwise it answers the current connection.
func (a *Agent) Refresh(ctx context.Context, id string, ifGeneration *int64) (Connection, error) {
	c, err := a.find(id)
	if err != nil {
		return Connection{}, err
	}
	return a.refresh(ctx, c, ifGeneration)
}

// refresh starts a refresh of c, or joins the one in flight, and waits for it.
func (a *Agent) refresh(ctx context.Context, c *conn, ifGen *int64) (Connection, error) {
	f, snap, err := a.startRefresh(c, ifGen)
	if f == nil || err != nil {
		return snap, err
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		// The refresh goes on without this caller: its result must be saved.
		return snap, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot(a.clock.Now()), f.err
}

// startRefresh returns the refresh in flight for c, starting one if none runs
// and c's generation still equals *ifGen (when given). A nil flight means no
// refresh was needed; the snapshot is then the current connection.
func (a *Agent) startRefresh(c *conn, ifGen *int64) (*flight, Connection, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := a.clock.Now()
	if c.flight != nil {
		return c.flight, c.snapshot(now), nil
	}
	if c.removed {
		return nil, c.snapshot(now), fmt.Errorf("%w: %q", ErrNotFound, c.rec.ID)
	}
	if c.rec.NeedsReconnect {
		return nil, c.snapshot(now), ErrNeedsReconnect
	}
	if ifGen != nil && *ifGen != c.rec.Generation {
		return nil, c.snapshot(now), nil
	}
	if !a.track() {
		return nil, c.snapshot(now), errors.New("the agent is stopping")
	}
	f := &flight{done: make(chan struct{})}
	c.flight = f
	a.emit(EventState, c)
	go a.runRefresh(c, f)
	return f, c.snapshot(now), nil
}

// runRefresh calls the relay (or the provider) and applies the answer. It
// runs under the agent's context, not a caller's: once the provider rotates
// the keys, the answer must be saved even if the caller went away.
func (a *Agent) runRefresh(c *conn, f *flight) {
	defer a.wg.Done()
	ctx, cancel := context.WithTimeout(a.ctx, refreshTimeout)
	defer cancel()

	c.mu.Lock()
	rec := c.rec
	blob, err := readRefresh(c)
	journaled := false
	if err == nil && !rec.Local && a.relay == nil {
		err = ErrNoRelay
	}
	if err == nil {
		journaled, err = a.journalRefresh(c)
	}
	c.mu.Unlock()

	var tok *oauthflow.Token
	if err == nil && a.cfg.refreshCalling != nil {
		a.cfg.refreshCalling()
	}
	if err == nil {
		tok, err = a.callRefresh(ctx, rec, blob)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		a.applyToken(c, tok)
		c.failures, c.lastErr, c.retryAt = 0, "", time.Time{}
		a.log.Info("refreshed", "connection", c.rec.ID, "generation", c.rec.Generation, "expires_at", c.rec.ExpiresAt)
	} else {
		err = a.refreshFailed(c, err, journaled)
	}
	// Wake the scheduler before the flight ends, so that whoever sees the
	// flight gone also sees the scheduler busy with its consequences.
	a.wake()
	f.err = err
	c.flight = nil
	close(f.done)
	if err == nil {
		a.emit(EventRefreshed, c)
	} else {
		a.emit(EventState, c)
	}
}

// journalRefresh records in the vault that a refresh is about to be sent,
// unless an unresolved one is already recorded, and reports whether it
// recorded one now. Without the journal, a crash after the provider rotated
// the keys and before the answer is saved would leave a spent refresh blob
// and a dead key that looks alive. When the journal cannot be saved nothing is
// sent: the old grant stays good. c.mu must be held.
func (a *Agent) journalRefresh(c *conn) (bool, error) {
	if c.removed {
		return false, fmt.Errorf("%w: %q", ErrNotFound, c.rec.ID)
	}
	if !c.rec.RefreshSent.IsZero() {
		return false, nil
	}
	c.rec.RefreshSent = a.clock.Now()
	if err := a.saveConn(c); err != nil {
		c.rec.RefreshSent = time.Time{}
		return false, fmt.Errorf("journal the refresh: %w", err)
	}
	return true, nil
}

// callRefresh asks the relay, or a direct provider, for a new key.
func (a *Agent) callRefresh(ctx context.Context, rec connRecord, blob string) (*oauthflow.Token, error) {
	old := &oauthflow.Token{RefreshCredential: blob, ScopesRequested: rec.ScopesRequested, ScopesGranted: rec.ScopesGranted}
	if rec.Local {
		return a.refreshDirect(ctx, rec, old)
	}
	if a.relay == nil {
		return nil, ErrNoRelay
	}
	return a.relay.Refresh(ctx, rec.Profile, old)
}

// applyToken makes tok the connection's key and saves it. The new refresh
// blob is saved before it is ever used; if the save fails the keys are still
// kept in memory, because the provider has already killed the old ones.
// c.mu must be held.
func (a *Agent) applyToken(c *conn, tok *oauthflow.Token) {
	now := a.clock.Now()
	c.rec.IssuedAt = now
	c.rec.ExpiresAt = tok.Expiry
	if c.rec.ExpiresAt.IsZero() {
		c.rec.ExpiresAt = now.Add(4 * time.Hour)
	}
	if len(tok.ScopesGranted) > 0 {
		c.rec.ScopesGranted = tok.ScopesGranted
	}
	c.rec.Generation++
	c.rec.RefreshSent = time.Time{}
	setKeys(c, tok)
	if c.removed {
		return
	}
	if err := a.saveConn(c); err != nil {
		a.log.Error("the refreshed key is only in memory: saving it failed", "connection", c.rec.ID, "err", err)
	}
}

// refreshFailed records a failed refresh and decides what it means: a
// provider that really refuses the grant means needs_reconnect; anything else
// (relay or provider down, a timeout) is retried with backoff while the key is
// served until it expires. The journal stays while the failed call, or
// an earlier one of the same refresh, may have reached the provider; it goes
// when the journal was made for this call and the call certainly did not
// reach the provider. journaled says whether it was made for this call. It
// returns the error for the callers. c.mu must be held.
func (a *Agent) refreshFailed(c *conn, err error, journaled bool) error {
	c.lastErr = err.Error()
	if grantRefused(err) {
		c.rec.NeedsReconnect = true
		c.rec.RefreshSent = time.Time{}
		if serr := a.saveConn(c); serr != nil {
			a.log.Error("saving needs_reconnect failed", "connection", c.rec.ID, "err", serr)
		}
		a.log.Warn("the provider refused the grant; the connection needs a reconnect", "connection", c.rec.ID, "err", err)
		return fmt.Errorf("%w: %w", ErrNeedsReconnect, err)
	}
	if journaled && !mayHaveReachedProvider(err) {
		c.rec.RefreshSent = time.Time{}
		if serr := a.saveConn(c); serr != nil {
			a.log.Warn("clearing the refresh journal failed; the refresh is retried at the next start", "connection", c.rec.ID, "err", serr)
		}
	}
	now := a.clock.Now()
	c.failures++
	c.retryAt = now.Add(a.retryDelay(c, now))
	a.log.Warn("refresh failed; will retry", "connection", c.rec.ID, "retry_at", c.retryAt, "err", err)
	return err
}

// retryDelay is the wait before the next refresh attempt: backoff, except
// while a refresh that may have reached the provider is unresolved. The
// provider may then have rotated the keys already, and the new ones exist
// only in the relay's answer cache for 2 minutes: missing that window loses
// the grant. So retries come fast enough that several land inside it. c.mu
// must be held.
func (a *Agent) retryDelay(c *conn, now time.Time) time.Duration {
	d := backoff(c.failures)
	if sent := c.rec.RefreshSent; !sent.IsZero() {
		if left := sent.Add(relayproto.AnswerWindow - 15*time.Second).Sub(now); left > 0 {
			d = min(d, max(left/2, time.Second))
		}
	}
	return d
}

// mayHaveReachedProvider reports whether a failed refresh call may have been
// delivered to the provider, so that the keys may have rotated: anything but
// a failed dial (refused, unreachable, DNS) and an answer by which the relay
// or the provider refused the call itself. The relay's 502
// provider_unavailable counts as delivered: the provider may have completed
// the call after the relay gave up on it, and the relay keeps that answer.
func mayHaveReachedProvider(err error) bool {
	var oe *oauthflow.Error
	if errors.As(err, &oe) {
		if oe.Code == "store_unavailable" {
			return false // the relay does nothing without its store
		}
		return oe.Code == "provider_unavailable" || oe.HTTPStatus >= 500
	}
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}

// grantRefused reports whether the provider itself refused the refresh token:
// Doorkeeper answers invalid_request to a used or revoked one, standard
// providers invalid_grant.
func grantRefused(err error) bool {
	var oe *oauthflow.Error
	if !errors.As(err, &oe) || oe.Source != relayproto.SourceProvider {
		return false
	}
	return oe.Code == "invalid_grant" || oe.Code == "invalid_request"
}

// backoff is the wait before retry n (1, 2, …): 5 s doubling to 5 min, with
// jitter so that many agents do not retry in step. The first retry falls
// inside the relay's 2-minute answer cache, so a lost answer is recovered.
func backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}
