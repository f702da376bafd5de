package relay

import (
	"context"
	"sync"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// sweepEvery is how often the in-memory caches drop their expired entries.
const sweepEvery = 30 * time.Second

// expiringSet remembers keys until their expiry: proofs seen, results and tickets
// spent. It is safe for concurrent use.
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

// defaultSharedAnswerWindow is refresh_answer_window's default with a shared store;
// without one it is relayproto.AnswerWindow (docs/relay.md §1, §3).
const defaultSharedAnswerWindow = 24 * time.Hour

// refreshCache makes concurrent refreshes of one blob in this process share one flight,
// keyed by SHA256(old blob), and, when it keeps answers (no shared store), keeps each
// success for the answer window. A flight runs in a goroutine of its own, on no
// request's context, so it ends with an answer even when every request waiting for it
// has gone. It is safe for concurrent use.
type refreshCache struct {
	now    func() time.Time
	window time.Duration   // how long a success is kept; 0 keeps none (the store does)
	bg     *sync.WaitGroup // counts the flights, for the shutdown

	mu sync.Mutex
	// guarded by mu:
	answers   map[[32]byte]cachedAnswer
	flights   map[[32]byte]*flight
	nextSweep time.Time
}

type cachedAnswer struct {
	answer *relayproto.TokenAnswer
	until  time.Time
}

// flight is one refresh in progress; done closes when answer and err are set.
type flight struct {
	done    chan struct{}
	answer  *relayproto.TokenAnswer
	err     *apiError
	waiters int // guarded by refreshCache.mu; requests that joined this flight
}

func newRefreshCache(now func() time.Time, window time.Duration, bg *sync.WaitGroup) *refreshCache {
	return &refreshCache{
		now:     now,
		window:  window,
		bg:      bg,
		answers: map[[32]byte]cachedAnswer{},
		flights: map[[32]byte]*flight{},
	}
}

// do answers from the cache, joins the flight in progress for key, or starts call as
// the one flight for key. The caller waits at most wait for the flight's answer, then
// gets errSlowProvider while the flight goes on: its success is kept for a retry. A
// caller whose ctx ends gets a 500 (nobody reads it). call must bound itself.
func (c *refreshCache) do(ctx context.Context, key [32]byte, wait time.Duration, call func() (*relayproto.TokenAnswer, *apiError)) (*relayproto.TokenAnswer, *apiError) {
	c.mu.Lock()
	now := c.now()
	c.sweepLocked(now)
	if a, ok := c.answers[key]; ok && now.Before(a.until) {
		c.mu.Unlock()
		return a.answer, nil
	}
	f, ok := c.flights[key]
	if ok {
		f.waiters++
	} else {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
		c.bg.Add(1)
		go c.fly(key, f, call)
	}
	c.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-f.done:
		return f.answer, f.err
	case <-timer.C:
		return nil, errSlowProvider()
	case <-ctx.Done():
		return nil, internalErr()
	}
}

// fly runs call as flight f and keeps its success.
func (c *refreshCache) fly(key [32]byte, f *flight, call func() (*relayproto.TokenAnswer, *apiError)) {
	defer c.bg.Done()
	// Deferred so that waiters are released even if call panics.
	defer func() {
		if f.answer == nil && f.err == nil {
			f.err = internalErr()
		}
		c.mu.Lock()
		delete(c.flights, key)
		if f.err == nil && c.window > 0 {
			c.answers[key] = cachedAnswer{answer: f.answer, until: c.now().Add(c.window)}
		}
		c.mu.Unlock()
		close(f.done)
	}()
	f.answer, f.err = call()
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

// errSlowProvider answers a request whose provider call is still running when
// provider_timeout has passed. The call goes on; a retry inside the answer window gets
// its answer.
func errSlowProvider() *apiError {
	return unavailable(0, "the provider did not answer in time; retry with the same refresh")
}
