package agent

import (
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// Activity is one recorded access: which process did what with which
// connection. Method and Path are set for sign and proxy: Path as the
// exchange sees it (/api/v2/orders), a proxied path joined to api_base.
type Activity struct {
	Time       time.Time
	PID        int
	Exe        string
	Connection string
	Label      string // the connection's label when the access happened
	Op         string
	Method     string
	Path       string
}

// activityLog keeps the newest max entries in a ring.
type activityLog struct {
	mu   sync.Mutex // guards ring and next
	max  int
	ring []Activity
	next int
}

// LogActivity appends one access to the activity log and publishes it as
// an "activity" event; the time is set here. A connection named by its
// provider id is recorded under its own id, with its label. A proxied
// Path relative to the connection's api_base is recorded absolute.
func (a *Agent) LogActivity(act Activity) {
	act.Time = a.clock.Now()
	if act.Connection != "" {
		if c, err := a.find(act.Connection); err == nil {
			c.mu.Lock()
			act.Connection, act.Label = c.rec.ID, c.rec.Label
			if act.Op == "proxy" && act.Path != "" && !strings.HasPrefix(act.Path, "/") {
				act.Path = apiPath(c.rec.Profile.APIBase, act.Path)
			}
			c.mu.Unlock()
		}
	}
	l := &a.activity
	l.mu.Lock()
	if len(l.ring) < l.max {
		l.ring = append(l.ring, act)
	} else {
		l.ring[l.next] = act
		l.next = (l.next + 1) % l.max
	}
	l.mu.Unlock()
	a.events.publish(Event{Type: EventActivity, Activity: &act})
}

// apiPath is rel under the path of apiBase: "orders" under
// https://x.com/api/v2 is /api/v2/orders.
func apiPath(apiBase, rel string) string {
	base := "/"
	if u, err := url.Parse(apiBase); err == nil && u.Path != "" {
		base = u.Path
	}
	return path.Join(base, rel)
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
