package agent

import (
	"bytes"
	"context"
	"flag"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
)

// stressFor is how long TestLockOrderStress races the agent. 30 s is what
// issue 15 asks for and what `make test` runs (it does not pass -short); the
// old deadlock (find: Agent.mu then conn.mu; startRefresh: conn.mu then
// Agent.mu) froze the agent within a second here. -short runs 3 s.
var stressFor = flag.Duration("agent.stress", 30*time.Second, "how long the lock-order stress test races the agent")

// TestLockOrderStress races refreshes by connection id, lookups and activity
// log entries by provider id, revocations, connects and Close, in rounds that
// each end with Close called while everything else still runs and a restart
// on the same vault. Every call must return: a round that does not end by
// its deadline is a stall, and the test dumps the goroutines and fails.
func TestLockOrderStress(t *testing.T) {
	total := *stressFor
	if testing.Short() {
		total = min(total, 3*time.Second)
	}
	e := newEnv(t)
	e.connect()
	e.idle()

	var cur atomic.Pointer[Agent]
	var calls atomic.Int64
	end := time.Now().Add(total)
	for round := 0; time.Now().Before(end); round++ {
		cur.Store(e.agent)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		worker := func(f func(a *Agent)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					f(cur.Load())
					calls.Add(1)
				}
			}()
		}
		ctx := context.Background()
		for range 4 {
			worker(func(a *Agent) {
				for _, c := range a.Connections() {
					a.Refresh(ctx, c.ID, nil)
				}
			})
			worker(func(a *Agent) {
				a.Connection(devstack.ProviderID)
				a.LogActivity(Activity{Connection: devstack.ProviderID, Op: "token"})
			})
		}
		worker(func(a *Agent) { a.Token(ctx, devstack.ProviderID, time.Hour) })
		worker(func(a *Agent) {
			a.Revoke(ctx, devstack.ProviderID)
			a.Connect(ctx, ConnectRequest{Provider: devstack.ProviderID}, nil)
		})

		roundEnd := time.Now().Add(min(3*time.Second, time.Until(end)))
		for time.Now().Before(roundEnd) {
			time.Sleep(50 * time.Millisecond)
		}
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			e.close() // Close races the workers, which keep calling
			close(stop)
			wg.Wait()
		}()
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			var dump bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&dump, 2)
			e.abandon.Store(true) // a deadlocked agent cannot be closed
			t.Fatalf("round %d: the agent stalled (%d calls returned before):\n%s", round, calls.Load(), tail(dump.String(), 20000))
		}
		e.start()
	}
	t.Logf("%d calls returned in %s", calls.Load(), total)

	// The agent still works after all that.
	e.idle()
	if len(e.agent.Connections()) == 0 {
		e.connect()
	}
	k, err := e.agent.Token(context.Background(), devstack.ProviderID, 0)
	if err != nil {
		t.Fatalf("Token after the stress: %v", err)
	}
	if status, _ := e.me(k); status != 200 {
		// Close can race a Connect and a Revoke of the same account so that
		// the grant the vault keeps is dead at the provider (noticed here, not
		// yet fixed: see the closing note of issue 15). A script that meets
		// the dead key reports it; the agent must then either heal the key or
		// say needs_reconnect, never keep serving the dead key as connected.
		t.Logf("the key after the stress answers %d; reporting it as a script would", status)
		c, err := e.agent.Connection(devstack.ProviderID)
		if err != nil {
			t.Fatalf("Connection after the stress: %v", err)
		}
		gen := c.Generation
		e.agent.Refresh(context.Background(), c.ID, &gen)
		c, err = e.agent.Connection(c.ID)
		if err != nil {
			t.Fatalf("Connection after the report: %v", err)
		}
		if c.State != "needs_reconnect" {
			k, err := e.agent.Token(context.Background(), c.ID, 0)
			if err != nil {
				t.Fatalf("Token after the report: %v", err)
			}
			if status, _ := e.me(k); status != 200 {
				t.Fatalf("after the report the agent says %s and serves a key that answers %d", c.State, status)
			}
		}
	}
}
