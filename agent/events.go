package agent

import "sync"

// The kinds of Event.
const (
	EventState     = "state"
	EventRefreshed = "refreshed"
	EventConnected = "connected"
	EventRevoked   = "revoked"
	EventActivity  = "activity" // an access was recorded; Event.Activity says which
	// EventResync is a subscription's last event when it fell behind: the
	// subscriber missed events and must load the whole state again.
	EventResync = "resync"
)

// Event tells subscribers that a connection changed, or (EventActivity)
// that an access was recorded.
type Event struct {
	Type       string
	Connection Connection // unset for "activity"
	Activity   *Activity  // set only for "activity"
}

// subscriberQueue is how many events a subscriber may fall behind.
const subscriberQueue = 64

// eventHub fans events out to subscribers. A subscriber that does not keep up
// is dropped rather than slowing the agent down, and told so: its queue's
// oldest event makes room for an EventResync, then its channel is closed.
type eventHub struct {
	mu     sync.Mutex // guards subs and closed
	subs   map[chan Event]struct{}
	closed bool
}

// Subscribe returns a channel of events and a function that ends the
// subscription. The channel is closed when the subscription or the agent ends,
// or after an EventResync when the subscriber fell more than 64 events
// behind: it then missed events, and loads the state again.
func (a *Agent) Subscribe() (<-chan Event, func()) {
	h := &a.events
	ch := make(chan Event, subscriberQueue)
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
			continue
		default:
		}
		// Full. Only publish sends, under h.mu, so once a slot is free the
		// resync fits: the subscriber can only make more room.
		select {
		case <-ch:
		default:
		}
		ch <- Event{Type: EventResync}
		close(ch)
		delete(h.subs, ch)
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
