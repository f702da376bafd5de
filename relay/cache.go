package relay

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is how often the in-memory caches drop their expired entries.
const sweepEvery = 30 * time.Second

// expiringSet remembers keys until their expiry: proofs seen, results spent. It is safe
// for concurrent use.
type expiringSet struct {
	mu sync.Mutex
	// guarded by mu:
	until     map[[32]byte]time.Time
	nextSweep time.Time
}

func newExpiringSet() *expiringSet {
	return &expiringSet{until: map[[32]byte]time.Time{}}
}

// add remembers key until the given time and reports whether it was new: absent or
// already expired at now.
func (s *expiringSet) add(key [32]byte, until, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if t, ok := s.until[key]; ok && now.Before(t) {
		return false
	}
	s.until[key] = until
	return true
}

func (s *expiringSet) sweepLocked(now time.Time) {
	if now.Before(s.nextSweep) {
		return
	}
	for k, t := range s.until {
		if !now.Before(t) {
			delete(s.until, k)
		}
	}
	s.nextSweep = now.Add(sweepEvery)
}

// refreshWindow is how long a refresh answer is kept for a retry (CONTRACTS.md §3).
const refreshWindow = 2 * time.Minute

// refreshCache keeps each refresh answer for refreshWindow, keyed by SHA256(old blob),
// and makes concurrent refreshes of one blob share one provider call. It is safe for
// concurrent use.
type refreshCache struct {
	now func() time.Time

	mu sync.Mutex
	// guarded by mu:
	answers   map[[32]byte]cachedAnswer
	flights   map[[32]byte]*flight
	nextSweep time.Time
}

type cachedAnswer struct {
	answer *tokenAnswer
	until  time.Time
}

// flight is one provider call in progress; done closes when answer and err are set.
type flight struct {
	done    chan struct{}
	answer  *tokenAnswer
	err     *apiError
	waiters int // guarded by refreshCache.mu; requests that joined this flight
}

func newRefreshCache(now func() time.Time) *refreshCache {
	return &refreshCache{
		now:     now,
		answers: map[[32]byte]cachedAnswer{},
		flights: map[[32]byte]*flight{},
	}
}

// do answers from the cache, joins the flight in progress for key, or runs call as the
// one flight and caches its success. call must not depend on ctx: it runs to its end
// even when every waiter has gone. A waiter whose ctx ends gets ctx's error as a 500.
func (c *refreshCache) do(ctx context.Context, key [32]byte, call func() (*tokenAnswer, *apiError)) (*tokenAnswer, *apiError) {
	c.mu.Lock()
	now := c.now()
	c.sweepLocked(now)
	if a, ok := c.answers[key]; ok && now.Before(a.until) {
		c.mu.Unlock()
		return a.answer, nil
	}
	if f, ok := c.flights[key]; ok {
		f.waiters++
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.answer, f.err
		case <-ctx.Done():
			return nil, internalErr()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()

	func() {
		// Deferred so that waiters are released even if call panics.
		defer func() {
			if f.answer == nil && f.err == nil {
				f.err = internalErr()
			}
			c.mu.Lock()
			delete(c.flights, key)
			if f.err == nil {
				c.answers[key] = cachedAnswer{answer: f.answer, until: c.now().Add(refreshWindow)}
			}
			c.mu.Unlock()
			close(f.done)
		}()
		f.answer, f.err = call()
	}()
	return f.answer, f.err
}

func (c *refreshCache) sweepLocked(now time.Time) {
	if now.Before(c.nextSweep) {
		return
	}
	for k, a := range c.answers {
		if !now.Before(a.until) {
			delete(c.answers, k)
		}
	}
	c.nextSweep = now.Add(sweepEvery)
}

// waiting returns how many requests joined the flight in progress for key.
func (c *refreshCache) waiting(key [32]byte) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.flights[key]; ok {
		return f.waiters
	}
	return 0
}
