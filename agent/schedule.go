package agent

import (
	"context"
	"time"
)

// Run keeps the connections fresh until ctx ends or the agent is closed. It
// refreshes each key a margin before it expires (the margin setting, at most a
// third of the key's lifetime), retries failures with backoff, and retries
// revocations the provider has not confirmed. It wakes at least every
// WakeEvery and compares wall-clock time, so time spent in suspend is noticed.
func (a *Agent) Run(ctx context.Context) {
	for {
		now := a.clock.Now()
		next := now.Add(a.cfg.WakeEvery)
		for _, c := range a.snapshotConns() {
			due, ok := a.dueAt(c)
			if !ok {
				continue
			}
			if !due.After(now) {
				a.startRefresh(c, nil)
				continue
			}
			if due.Before(next) {
				next = due
			}
		}
		if due, ok := a.retryRevocations(now); ok && due.Before(next) {
			next = due
		}
		timer, stop := a.clock.NewTimer(next.Sub(now))
		select {
		case <-timer:
		case <-a.kick:
			stop()
		case <-ctx.Done():
			stop()
			return
		case <-a.ctx.Done():
			stop()
			return
		}
	}
}

func (a *Agent) snapshotConns() []*conn {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*conn, 0, len(a.conns))
	for _, c := range a.conns {
		out = append(out, c)
	}
	return out
}

// dueAt returns when c should next be refreshed, and false when the scheduler
// should leave it alone (a refresh runs, or it needs a reconnect). A refresh
// journaled before a crash is due at once.
func (a *Agent) dueAt(c *conn) (time.Time, bool) {
	margin := a.Settings().RefreshMargin
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flight != nil || c.rec.NeedsReconnect {
		return time.Time{}, false
	}
	if c.failures > 0 {
		return c.retryAt, true
	}
	if !c.rec.RefreshSent.IsZero() {
		return c.rec.RefreshSent, true // journaled and unresolved: due at once
	}
	margin = min(margin, c.rec.lifetime()/3)
	return c.rec.ExpiresAt.Add(-margin), true
}
