package agent

import "sync"

// The kinds of Event.
const (
	EventState     = "state"
	EventRefreshed = "refreshed"
	EventConnected = "connected"
	EventRevoked   = "revoked"
	EventActivity  = "activity" // an access was recorded; Event.Activity says which
)

// Event tells subscribers that a connection changed, or (EventActivity)
// that an access was recorded.
type Event struct {
	Type       string
	Connection Connection // unset for "activity"
	Activity   *Activity  // set only for "activity"
}

// eventHub fans events out to subscribers. A subscriber that does not keep up
// loses events rather than slowing the agent down.
type eventHub struct {
	mu     sync.Mutex // guards subs and closed
	subs   map[chan Event]struct{}
	closed bool
}

// Subscribe returns a channel of events and a function that ends the
// subscription. The channel is closed when the subscription or the agent ends.
func (a *Agent) Subscribe() (<-chan Event, func()) {
	h := &a.events
	ch := make(chan Event, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	if h.subs == nil {
		h.subs = make(map[chan Event]struct{})
	}
	h.subs[ch] = struct{}{}
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

func (h *eventHub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (h *eventHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
	}
	h.subs = nil
}

// emit publishes an event about c. c.mu must be held.
func (a *Agent) emit(typ string, c *conn) {
	a.events.publish(Event{Type: typ, Connection: c.snapshot(a.clock.Now())})
}
