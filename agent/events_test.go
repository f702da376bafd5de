package agent

import (
	"strconv"
	"testing"
	"time"
)

// TestSubscriberThatFallsBehindIsToldSo: a subscriber that does not read
// while more events than its queue holds are published must not silently
// miss some and go on: its last event says resync, then its channel closes,
// and the other subscribers are untouched.
func TestSubscriberThatFallsBehindIsToldSo(t *testing.T) {
	a := &Agent{}
	slow, cancelSlow := a.Subscribe()
	defer cancelSlow()
	fast, cancelFast := a.Subscribe()
	defer cancelFast()
	n := subscriberQueue + 10
	var fastGot int
	for i := range n {
		a.events.publish(Event{Type: EventState, Connection: Connection{ID: strconv.Itoa(i)}})
		select {
		case <-fast:
			fastGot++
		case <-time.After(5 * time.Second):
			t.Fatalf("the fast subscriber got no event %d", i)
		}
	}
	if fastGot != n {
		t.Fatalf("fast subscriber got %d events, want %d", fastGot, n)
	}
	var got []Event
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-slow:
			if !ok {
				if len(got) == 0 || got[len(got)-1].Type != EventResync {
					t.Fatalf("slow subscriber's channel closed after %d events without a resync", len(got))
				}
				for _, ev := range got[:len(got)-1] {
					if ev.Type == EventResync {
						t.Fatalf("a resync before the last event")
					}
				}
				return
			}
			got = append(got, ev)
		case <-timeout:
			t.Fatalf("slow subscriber: %d events and no end; want its last to be %q and its channel closed", len(got), EventResync)
		}
	}
}
