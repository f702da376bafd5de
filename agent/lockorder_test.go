package agent

import (
	"bytes"
	"context"
	"flag"
	"fmt"
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
		// A restart takes time. The fake clock stands still otherwise, and a
		// new process's signer starts from the clock: without this it would
		// sign again with the tonce the last process used with the same key
		// (Connect's me call), and the exchange would answer 2006 to a live
		// key.
		e.clock.Advance(time.Second)
		e.start()
		// Whatever the interleaving, the restarted agent has the account at
		// most once, and a connection it says is connected has a key the
		// exchange takes.
		e.idle()
		checkConnectedKeysLive(t, e, fmt.Sprintf("after round %d", round))
	}
	t.Logf("%d calls returned in %s", calls.Load(), total)

	// The agent still works after all that.
	if len(e.agent.Connections()) == 0 {
		e.connect()
		e.idle()
	}
	checkConnectedKeysLive(t, e, "after the stress")
	if _, err := e.agent.Token(context.Background(), devstack.ProviderID, 0); err != nil {
		t.Fatalf("Token after the stress: %v", err)
	}
}

// checkConnectedKeysLive fails unless the agent has at most one connection
// (the stress connects one account) and every connection it says is
// connected has a key the exchange takes.
func checkConnectedKeysLive(t *testing.T, e *env, when string) {
	t.Helper()
	conns := e.agent.Connections()
	if len(conns) > 1 {
		t.Fatalf("%s: %d connections of one account: %+v", when, len(conns), conns)
	}
	for _, c := range conns {
		if c.State != StateConnected {
			continue
		}
		k, err := e.agent.Token(context.Background(), c.ID, 0)
		if err != nil {
			t.Fatalf("%s: Token(%s): %v", when, c.ID, err)
		}
		if status, body := e.me(k); status != 200 {
			t.Fatalf("%s: %s (generation %d) says connected, but its key answers %d %s", when, c.ID, c.Generation, status, body)
		}
	}
}
