// Package faulttest kills, hangs and races the real `tokentray` and
// `tokentray-relay` processes against the simulated exchange, and checks the
// outcome where it counts: at the provider. The tests live in a package of
// their own because they drive both binaries (built once in TestMain) and
// belong to neither the CLI nor the agent; every test here is skipped under
// -short.
package faulttest

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestKillInRotationWindow SIGKILLs the agent after the exchange rotated the
// keys and before the agent could save them (the exchange holds its answer
// until the kill), three times. Each time the restarted agent must reach the
// new generation by itself within 20 s, with a key the exchange accepts, and
// must never show the dead key as connected meanwhile.
func TestKillInRotationWindow(t *testing.T) {
	w := newWorld(t, worldOptions{})
	c := w.connect()
	gen := c.Generation
	for round := 1; round <= 3; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		old, err := w.client.Token(ctx, c.ID, 0)
		cancel()
		if err != nil {
			t.Fatalf("round %d: token: %v", round, err)
		}
		rotated, release := make(chan struct{}, 1), make(chan struct{})
		w.gate.onRefresh(rotateThenHold(rotated, release, time.Minute))
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			w.client.Refresh(ctx, c.ID, nil) // ends with the agent
		}()
		select {
		case <-rotated:
		case <-time.After(20 * time.Second):
			t.Fatalf("round %d: the refresh never reached the exchange", round)
		}
		w.killAgent()
		w.gate.onRefresh(nil)
		close(release) // the relay gets the answer the agent never will
		if got := w.meStatus(old.AccessKey, old.SecretKey); got != http.StatusUnauthorized {
			t.Fatalf("round %d: the old key answers %d after the rotation, want 401: the kill missed the window", round, got)
		}

		restarted := time.Now()
		w.startAgent()
		waitFor(t, 20*time.Second, "the restarted agent to reach the new generation", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			x, err := w.client.Connection(ctx, c.ID)
			if err != nil {
				t.Fatalf("round %d: connection after the restart: %v", round, err)
			}
			if x.State == "connected" && x.Generation == gen {
				t.Fatalf("round %d: the restarted agent shows the dead key of generation %d as connected", round, gen)
			}
			if x.State == "needs_reconnect" {
				t.Fatalf("round %d: the grant was lost: %s", round, x.State)
			}
			return x.State == "connected" && x.Generation == gen+1
		})
		live, g := w.liveKey(c.ID)
		if !live || g != gen+1 {
			t.Fatalf("round %d: the agent's key (generation %d, want %d) is live at the exchange: %v", round, g, gen+1, live)
		}
		t.Logf("round %d: killed in the rotation window; generation %d reached %s after the restart", round, g, time.Since(restarted).Round(time.Millisecond))
		gen = g
	}
}

// TestKillDuringRevoke SIGKILLs the agent while its revocation is on the way
// to the exchange (which never gets it); the restarted agent must not list
// the connection, must count the revocation as pending, and must get it to
// the exchange within 40 s.
func TestKillDuringRevoke(t *testing.T) {
	w := newWorld(t, worldOptions{})
	c := w.connect()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k, err := w.client.Token(ctx, c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	w.gate.onRevoke(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-time.After(time.Minute):
		}
		http.Error(rw, "cut", http.StatusInternalServerError) // it never reaches the exchange
	})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		w.client.Revoke(ctx, c.ID) // ends with the agent
	}()
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the revocation never reached the exchange")
	}
	w.killAgent()
	// The first attempt after the restart fails too, so that status can be
	// seen to count the pending revocation; the next one passes.
	var attempts atomic.Int32
	failed := make(chan struct{})
	w.gate.onRevoke(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		if attempts.Add(1) == 1 {
			http.Error(rw, "down", http.StatusInternalServerError)
			close(failed)
			return
		}
		next.ServeHTTP(rw, r)
	})
	close(release)
	if got := w.meStatus(k.AccessKey, k.SecretKey); got != http.StatusOK {
		t.Fatalf("the key answers %d before the restart: the revocation was not cut", got)
	}

	restarted := time.Now()
	w.startAgent()
	list, err := w.client.Connections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if x.ID == c.ID {
			t.Fatalf("the restarted agent lists the revoked connection %s (%s)", x.ID, x.State)
		}
	}
	select {
	case <-failed:
	case <-time.After(20 * time.Second):
		t.Fatal("the restarted agent did not send the pending revocation")
	}
	out := status(t, w)
	if !strings.Contains(out, " 1 pending revocation(s)") {
		t.Fatalf("tokentray status = %q, want 1 pending revocation", out)
	}
	waitFor(t, 40*time.Second-time.Since(restarted), "the exchange to see the revocation", func() bool {
		return w.meStatus(k.AccessKey, k.SecretKey) == http.StatusUnauthorized && w.exchange.LiveKeys() == 0
	})
	t.Logf("the exchange saw the revocation %s after the restart", time.Since(restarted).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "status to count no pending revocation", func() bool {
		return strings.Contains(status(t, w), " 0 pending revocation(s)")
	})
}

// TestSlowProviderBehindRelayTimeout makes the exchange rotate the keys and
// answer 6 s later, behind the relay's 3 s provider_timeout: the relay answers
// the agent 502, and the connection must still end connected with a live key.
func TestSlowProviderBehindRelayTimeout(t *testing.T) {
	// Without the relay's detached provider call, the relay drops the call at
	// its timeout, the exchange rotates anyway, and the agent's retry (sent
	// inside the answer window, as it should be) finds no answer to return.
	w := newWorld(t, worldOptions{providerTimeout: 3 * time.Second})
	c := w.connect()
	var calls atomic.Int32
	slow := rotateThenHold(nil, nil, 6*time.Second)
	w.gate.onRefresh(func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		if calls.Add(1) == 1 {
			slow(rw, r, next)
			return
		}
		next.ServeHTTP(rw, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.client.Refresh(ctx, c.ID, nil); err == nil {
		t.Log("the first refresh succeeded: the relay waited for the slow exchange")
	}
	waitFor(t, 40*time.Second, "the connection to be connected with a new key", func() bool {
		x, err := w.client.Connection(ctx, c.ID)
		if err != nil {
			t.Fatalf("connection: %v", err)
		}
		if x.State == "needs_reconnect" {
			t.Fatalf("the grant was lost behind the relay's timeout (exchange token calls: %d)", calls.Load())
		}
		return x.State == "connected" && x.Generation == c.Generation+1
	})
	if live, g := w.liveKey(c.ID); !live {
		t.Fatalf("the key of generation %d is not live at the exchange", g)
	}
}

// status runs `tokentray status` against the world's agent.
func status(t *testing.T, w *world) string {
	t.Helper()
	cmd := exec.Command(bins.agent, "status")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.home, "TOKENTRAY_HOME=" + w.home, "TOKENTRAY_SOCK=" + w.sock}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tokentray status: %v", err)
	}
	return string(out)
}
