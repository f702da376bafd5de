package localapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/localapi"
	"github.com/tokentray/tokentray/localclient"
)

// sseEvent is one server-sent event as read off the wire.
type sseEvent struct {
	typ  string
	data string
}

// openEvents subscribes to /v1/events; the subscription exists once the
// answer's headers have arrived.
func openEvents(t *testing.T, e *env, ctx context.Context) (*http.Response, <-chan sseEvent) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://tokentray/v1/events", nil)
	resp, err := e.rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			case line == "" && ev.typ != "":
				ch <- ev
				ev = sseEvent{}
			}
		}
	}()
	return resp, ch
}

// next returns the next event of type typ, skipping others.
func next(t *testing.T, ch <-chan sseEvent, typ string) localclient.Connection {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the event stream ended before a %q event", typ)
			}
			if ev.typ != typ {
				continue
			}
			var c localclient.Connection
			dec := json.NewDecoder(strings.NewReader(ev.data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("event data %q: %v", ev.data, err)
			}
			return c
		case <-timeout:
			t.Fatalf("no %q event within 10s", typ)
		}
	}
}

func TestEventsOnRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp, events := openEvents(t, e, t.Context())
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	conn := e.connect()
	if got := next(t, events, "connected"); got.ID != conn.ID || got.State != localclient.StateConnected {
		t.Fatalf("connected event = %+v", got)
	}
	if _, err := e.client.Refresh(t.Context(), conn.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := next(t, events, "state"); got.ID != conn.ID || got.State != localclient.StateRefreshing {
		t.Fatalf("state event = %+v, want refreshing", got)
	}
	got := next(t, events, "refreshed")
	if got.ID != conn.ID || got.Generation != conn.Generation+1 || got.State != localclient.StateConnected || got.Label != conn.Label {
		t.Fatalf("refreshed event = %+v, want %s at generation %d", got, conn.ID, conn.Generation+1)
	}
	if _, err := e.client.Revoke(t.Context(), conn.ID); err != nil {
		t.Fatal(err)
	}
	if got := next(t, events, "revoked"); got.ID != conn.ID || got.State != localclient.StateConnected {
		t.Fatalf("revoked event = %+v, want %s in its last state, connected", got, conn.ID)
	}
}

func TestClientEvents(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan localclient.Event, 64)
	done := make(chan error, 1)
	go func() { done <- e.client.Events(ctx, func(ev localclient.Event) { got <- ev }) }()
	// Renaming emits a state event: repeat until the subscription sees one.
	label := "bot"
	waitFor(t, func() bool {
		e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{Label: &label})
		select {
		case ev := <-got:
			return ev.Type == "state" && ev.Connection.Label == "bot"
		case <-time.After(20 * time.Millisecond):
			return false
		}
	})
	if _, err := e.client.Refresh(t.Context(), conn.ID, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		select {
		case ev := <-got:
			return ev.Type == "refreshed" && ev.Connection.Generation == conn.Generation+1
		default:
			return false
		}
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Events after its context ended = %v, want nil", err)
	}
}

// TestClientEventsAfterSeesWhatFollowsTheLoad renames the connection inside
// opened, the moment after the subscription and before any event is read:
// the rename must arrive as the first event, or a view that loads there
// could miss it.
func TestClientEventsAfterSeesWhatFollowsTheLoad(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	first := make(chan localclient.Event, 1)
	done := make(chan error, 1)
	go func() {
		done <- e.client.EventsAfter(ctx, func() error {
			label := "renamed after the load"
			_, err := e.client.UpdateConnection(ctx, conn.ID, localclient.ConnectionPatch{Label: &label})
			return err
		}, func(ev localclient.Event) {
			if ev.Type == "activity" {
				return // the rename's own access record; the change is what counts
			}
			select {
			case first <- ev:
			default:
			}
		})
	}()
	select {
	case ev := <-first:
		if ev.Type != "state" || ev.Connection.Label != "renamed after the load" {
			t.Fatalf("first event = %s %+v, want the rename", ev.Type, ev.Connection)
		}
	case err := <-done:
		t.Fatalf("EventsAfter ended before any event: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the rename made in opened never arrived as an event")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("EventsAfter after its context ended = %v, want nil", err)
	}
}

func TestEventsAfterStopsOnItsError(t *testing.T) {
	e := newEnv(t, envOptions{})
	want := errors.New("the load failed")
	err := e.client.EventsAfter(t.Context(), func() error { return want }, func(localclient.Event) {
		t.Error("an event after opened failed")
	})
	if !errors.Is(err, want) {
		t.Fatalf("EventsAfter = %v, want %v", err, want)
	}
}

func TestEventStreamEndsWhenTheAgentStops(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, events := openEvents(t, e, context.Background())
	stopped := make(chan struct{})
	go func() { e.daemon.Stop(); close(stopped) }()
	// The shutdown grants requests 5 s; an open stream must not use them up.
	select {
	case <-stopped:
	case <-time.After(4 * time.Second):
		t.Fatal("Stop waited for the open event stream")
	}
	for range events {
	}
	_, err := e.client.Status(t.Context())
	if !errors.Is(err, localclient.ErrAgentNotRunning) {
		t.Fatalf("Status after Stop = %v", err)
	}
}

func TestSettings(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	s, err := e.client.Settings(ctx)
	if err != nil || s.RefreshMargin != "10m0s" || s.Autostart {
		t.Fatalf("Settings = %+v, %v; want the defaults", s, err)
	}
	margin, on := "15m", true
	s, err = e.client.UpdateSettings(ctx, localclient.SettingsPatch{RefreshMargin: &margin, Autostart: &on})
	if err != nil || s.RefreshMargin != "15m0s" || !s.Autostart {
		t.Fatalf("UpdateSettings = %+v, %v", s, err)
	}
	tests := []struct{ name, body, want string }{
		{"not a duration", `{"refresh_margin":"banana"}`, "Go duration"},
		{"a number", `{"refresh_margin":600}`, "not valid JSON"},
		{"too small", `{"refresh_margin":"1s"}`, "between"},
		{"too large", `{"refresh_margin":"3h"}`, "between"},
		{"negative", `{"refresh_margin":"-10m"}`, "between"},
		{"autostart as a string", `{"autostart":"yes"}`, "not valid JSON"},
		{"unknown setting", `{"refresh_margin":"20m","theme":"dark"}`, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, b := e.raw("PATCH", "/v1/settings", strings.NewReader(tt.body), nil)
			eb := errorOf(t, b)
			if status != 400 || eb.Code != localclient.CodeBadRequest || !strings.Contains(eb.Message, tt.want) {
				t.Fatalf("PATCH %s = %d %s, want 400 mentioning %q", tt.body, status, b, tt.want)
			}
		})
	}
	s, err = e.client.Settings(ctx)
	if err != nil || s.RefreshMargin != "15m0s" || !s.Autostart {
		t.Fatalf("after the bad patches: %+v, %v; want them unchanged", s, err)
	}
}

// TestEventStreamOutlivesTheBodyDeadline: the body deadline is for bodies;
// a stream of events, which has none, must not end when it passes (it did:
// the deadline, set on the GET's connection, cut the stream every 10 s and
// left its keep-alive connection with a cancelled context).
func TestEventStreamOutlivesTheBodyDeadline(t *testing.T) {
	defer localapi.SetBodyReadTimeout(200 * time.Millisecond)()
	e := newEnv(t, envOptions{})
	conn := e.connect()
	_, events := openEvents(t, e, t.Context())
	time.Sleep(time.Second) // five deadlines
	label := "renamed after the deadline"
	if _, err := e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{Label: &label}); err != nil {
		t.Fatal(err)
	}
	if got := next(t, events, "state"); got.Label != label {
		t.Fatalf("state event = %+v, want the rename", got)
	}
}

// burst renames conn n times, each a state and an activity event: far more
// than a subscriber's queue and the socket's buffers hold together.
func burst(t *testing.T, e *env, conn localclient.Connection, n int) {
	t.Helper()
	for i := range n {
		label := fmt.Sprintf("burst %d %s", i, strings.Repeat("x", 100))
		if _, err := e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{Label: &label}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSlowEventReaderIsToldItMissedEvents: a client that stops reading
// while a burst of events comes must not lose some and go on as if nothing
// happened: its stream ends with "event: resync" (no data), so it reloads.
func TestSlowEventReaderIsToldItMissedEvents(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	_, events := openEvents(t, e, t.Context()) // stops reading after 64 events until drained
	burst(t, e, conn, 1500)
	var last sseEvent
	timeout := time.After(20 * time.Second)
	for n := 0; ; n++ {
		select {
		case ev, ok := <-events:
			if !ok {
				if last.typ != "resync" || last.data != "" {
					t.Fatalf("the stream ended after %d events with %+v, want an event resync without data", n, last)
				}
				return
			}
			last = ev
		case <-timeout:
			t.Fatalf("after %d events the stream goes on (last %q): a reader that fell behind was not told", n, last.typ)
		}
	}
}

// TestClientEventsAfterReloadsWhenItFellBehind: EventsAfter answers the
// agent's resync by subscribing again and calling opened again, so a view
// reloads what it missed and keeps following; Events, which has nothing to
// reload with, returns ErrEventsMissed.
func TestClientEventsAfterReloadsWhenItFellBehind(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	opens := make(chan struct{}, 8)
	release := make(chan struct{})
	got := make(chan localclient.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- e.client.EventsAfter(ctx, func() error { opens <- struct{}{}; return nil }, func(ev localclient.Event) {
			<-release // a reader stuck until the burst is over
			if ev.Type == "state" {
				select {
				case got <- ev:
				default:
				}
			}
		})
	}()
	<-opens
	plain := make(chan error, 1)
	go func() { plain <- e.client.Events(ctx, func(localclient.Event) { <-release }) }()
	burst(t, e, conn, 1500)
	close(release)
	select {
	case <-opens:
	case err := <-done:
		t.Fatalf("EventsAfter ended instead of reloading: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("EventsAfter never reloaded after falling behind")
	}
	select {
	case err := <-plain:
		if !errors.Is(err, localclient.ErrEventsMissed) {
			t.Fatalf("Events after falling behind = %v, want ErrEventsMissed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Events went on after falling behind")
	}
	label := "after the reload"
	for len(got) > 0 {
		<-got
	}
	if _, err := e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{Label: &label}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-got:
			if ev.Connection.Label == label {
				cancel()
				if err := <-done; err != nil {
					t.Fatalf("EventsAfter after its context ended = %v, want nil", err)
				}
				return
			}
		case <-timeout:
			t.Fatal("no event after the reload")
		}
	}
}
