package agent

import "time"

// Clock is the agent's source of time, so tests can drive it. Now must report
// wall-clock time: expiry is compared against it, so that a laptop waking from
// suspend (where monotonic timers stood still) refreshes at once.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once d has passed, and a
	// function that stops the timer.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the wall-clock time, without the monotonic reading.
func (SystemClock) Now() time.Time { return time.Now().Round(0) }

// NewTimer wraps time.NewTimer.
func (SystemClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
