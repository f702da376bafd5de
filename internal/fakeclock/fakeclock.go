// Package fakeclock is a clock that tests move by hand.
package fakeclock

import (
	"sort"
	"sync"
	"time"
)

// Clock is a manual clock. Its timers fire only when Advance or Set moves the
// time past them. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex // guards the fields below
	now    time.Time
	timers []*timer
	added  chan struct{} // closed and replaced whenever a timer is added
}

type timer struct {
	at time.Time
	ch chan time.Time
}

// New returns a clock that reads t.
func New(t time.Time) *Clock { return &Clock{now: t, added: make(chan struct{})} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a channel that receives when the clock reaches now+d.
func (c *Clock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t.ch, func() bool { return false }
	}
	c.timers = append(c.timers, t)
	close(c.added)
	c.added = make(chan struct{})
	return t.ch, func() bool { return c.stop(t) }
}

func (c *Clock) stop(t *timer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}

// Advance moves the clock forward by d, firing every timer it passes.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (also backwards), firing every timer due by then.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	sort.Slice(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	kept := c.timers[:0]
	for _, x := range c.timers {
		if x.at.After(t) {
			kept = append(kept, x)
			continue
		}
		x.ch <- t
	}
	c.timers = kept
}

// Next returns when the earliest pending timer fires, and whether there is one.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	next := c.timers[0].at
	for _, x := range c.timers[1:] {
		if x.at.Before(next) {
			next = x.at
		}
	}
	return next, true
}

// WaitTimers blocks until at least n timers are pending or timeout passes
// (in real time), and reports whether they are.
func (c *Clock) WaitTimers(n int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		count, added := len(c.timers), c.added
		c.mu.Unlock()
		if count >= n {
			return true
		}
		select {
		case <-added:
		case <-deadline:
			return false
		}
	}
}
