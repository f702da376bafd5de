package agent

import (
	"sync"
	"time"
)

// Activity is one recorded access: which process did what with which
// connection.
type Activity struct {
	Time       time.Time
	PID        int
	Exe        string
	Connection string
	Op         string
}

// activityLog keeps the newest max entries in a ring.
type activityLog struct {
	mu   sync.Mutex // guards ring and next
	max  int
	ring []Activity
	next int
}

// Record adds one access to the activity record; the time is set here. A
// connection named by its provider id is recorded under its own id.
func (a *Agent) Record(act Activity) {
	act.Time = a.clock.Now()
	if act.Connection != "" {
		if c, err := a.find(act.Connection); err == nil {
			c.mu.Lock()
			act.Connection = c.rec.ID
			c.mu.Unlock()
		}
	}
	l := &a.activity
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ring) < l.max {
		l.ring = append(l.ring, act)
		return
	}
	l.ring[l.next] = act
	l.next = (l.next + 1) % l.max
}

// Activity returns the recorded accesses, newest first.
func (a *Agent) Activity() []Activity {
	l := &a.activity
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Activity, 0, len(l.ring))
	for i := len(l.ring) - 1; i >= 0; i-- {
		out = append(out, l.ring[(l.next+i)%len(l.ring)])
	}
	return out
}
