package app

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
)

// fyneThread stands in for the Fyne thread in tests: goroutines queue their
// widget work on it and the test goroutine runs it, so widgets are only
// touched from one goroutine, as in the app.
type fyneThread chan func()

func (q fyneThread) do(f func()) { q <- f }

// until runs queued work until cond holds; it fails the test after 10 s.
func (q fyneThread) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case f := <-q:
			f()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// settle runs queued work until none arrives for a short while.
func (q fyneThread) settle() {
	for {
		select {
		case f := <-q:
			f()
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

// ignore is a browser that never comes back.
func ignore(context.Context, string) error { return nil }

// startAgent runs the simulated world (as `tokentray demo` does): a real
// agent on a real socket, a real relay and the simulated exchange, with
// open as the agent's browser.
func startAgent(t *testing.T, approval fakeexchange.Approval, open func(context.Context, string) error) (*localclient.Client, *devstack.Stack) {
	t.Helper()
	c, stack, _ := startAgentSocket(t, approval, open)
	return c, stack
}

// startAgentSocket is startAgent, and returns the agent's socket too.
func startAgentSocket(t *testing.T, approval fakeexchange.Approval, open func(context.Context, string) error) (*localclient.Client, *devstack.Stack, string) {
	t.Helper()
	w, err := devworld.Start(context.Background(), devworld.Options{
		Stack: devstack.Options{Approval: approval},
		Agent: agentd.Options{Open: open, Version: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w.Client, w.Stack, w.Socket
}

// newTestUI makes the app on Fyne's test driver, with c as its agent (nil
// for widget-only tests) and a temporary config home. It does not start the
// bridge; tests that need it call startBridge.
func newTestUI(t *testing.T, c *localclient.Client) (*ui, fyneThread) {
	t.Helper()
	a := test.NewTempApp(t)
	cfg := t.TempDir()
	q := make(fyneThread, 256)
	u := newUI(a, c, Options{
		Getenv:     func(k string) string { return map[string]string{"XDG_CONFIG_HOME": cfg, "HOME": cfg}[k] },
		Executable: "/usr/bin/tokentray",
		RelayURL:   "http://127.0.0.1:8787",
		Logger:     slog.New(slog.DiscardHandler),
	})
	u.do = q.do
	t.Cleanup(func() {
		u.stop()
		if u.win.visible {
			u.win.hide()
		}
	})
	return u, q
}

// startBridge starts following the agent and waits for the first load.
func startBridge(t *testing.T, u *ui, q fyneThread) {
	t.Helper()
	loaded := false
	u.providers = nil
	go u.follow(u.ctx)
	q.until(t, "the first load", func() bool {
		loaded = loaded || u.providers != nil
		return loaded
	})
}

// connect makes a connection through the agent and waits until the UI has it.
func connect(t *testing.T, u *ui, q fyneThread, c *localclient.Client, scopes ...string) localclient.Connection {
	t.Helper()
	conn, err := c.Connect(context.Background(), localclient.ConnectRequest{Provider: devstack.ProviderID, Scopes: scopes}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	q.until(t, "the connection in the UI", func() bool { _, ok := u.connection(conn.ID); return ok })
	return *conn
}

// timers stands in for time.AfterFunc: the test fires what is set by hand.
type timers struct {
	mu  sync.Mutex
	set []*timer
}

type timer struct {
	d       time.Duration
	f       func()
	stopped bool
}

// fakeTimers makes u's timers fake ones.
func fakeTimers(u *ui) *timers {
	ts := &timers{}
	u.after = func(d time.Duration, f func()) func() bool {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		tm := &timer{d: d, f: f}
		ts.set = append(ts.set, tm)
		return func() bool {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			was := !tm.stopped
			tm.stopped = true
			return was
		}
	}
	return ts
}

// live returns the timers set and not stopped or fired, but for the
// memory release after the window closes.
func (ts *timers) live() []*timer {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []*timer
	for _, tm := range ts.set {
		if !tm.stopped && tm.d != releaseAfter {
			out = append(out, tm)
		}
	}
	return out
}

// pending returns how many timers wait.
func (ts *timers) pending() int { return len(ts.live()) }

// next returns the wait of the one pending timer.
func (ts *timers) next(t *testing.T) time.Duration {
	t.Helper()
	live := ts.live()
	if len(live) != 1 {
		t.Fatalf("%d timers pending, want 1", len(live))
	}
	return live[0].d
}

// fire fires the one pending timer.
func (ts *timers) fire(t *testing.T) {
	t.Helper()
	live := ts.live()
	if len(live) != 1 {
		t.Fatalf("%d timers pending, want 1", len(live))
	}
	ts.mu.Lock()
	live[0].stopped = true
	ts.mu.Unlock()
	live[0].f()
}
