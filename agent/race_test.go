package agent

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
)

// TestConnectAgainWaitsForRefresh connects an account again while a refresh
// of its connection is on its way to the exchange. The old grant the Connect
// replaces must be the one the refresh leaves: revoking the blob the refresh
// carries would kill the grant under the refresh (the exchange then refuses
// it and the connection, which holds the new live key, would say
// needs_reconnect), and a refresh answer applied after the Connect would put
// the old grant back and leave the new one alive at the exchange, in no record.
func TestConnectAgainWaitsForRefresh(t *testing.T) {
	var armed atomic.Bool
	calling, release := make(chan struct{}), make(chan struct{})
	waits := make(chan struct{}, 1)
	var once sync.Once
	e := newEnvTuned(t, func(cfg *Config) {
		cfg.refreshCalling = func() {
			if armed.Load() {
				once.Do(func() { close(calling); <-release })
			}
		}
		cfg.adoptWaits = func() {
			select {
			case waits <- struct{}{}:
			default:
			}
		}
	})
	c := e.connect()
	e.idle()
	armed.Store(true)
	refreshed := make(chan error, 1)
	go func() {
		_, err := e.agent.Refresh(context.Background(), c.ID, nil)
		refreshed <- err
	}()
	select {
	case <-calling:
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh did not start")
	}
	type result struct {
		c   Connection
		err error
	}
	connected := make(chan result, 1)
	go func() {
		x, err := e.agent.Connect(context.Background(), ConnectRequest{Provider: devstack.ProviderID}, nil)
		connected <- result{x, err}
	}()
	select {
	case <-waits: // the Connect waits for the refresh
	case r := <-connected:
		// It did not wait: let its revocation of the old grant reach the
		// exchange before the refresh does, as the scheduler may.
		connected <- r
		waitFor(t, "the old grant's revocation", func() bool {
			return e.stack.Exchange.Calls("/oauth/revoke") > 0 && e.agent.Status().PendingRevocations == 0
		})
	case <-time.After(10 * time.Second):
		t.Fatal("the Connect neither waited nor returned")
	}
	close(release)
	var r result
	select {
	case r = <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("the Connect did not return after the refresh")
	}
	if r.err != nil {
		t.Fatalf("Connect: %v", r.err)
	}
	select {
	case <-refreshed:
	case <-time.After(10 * time.Second):
		t.Fatal("the Refresh did not return")
	}
	e.idle()

	conns := e.agent.Connections()
	if len(conns) != 1 || conns[0].ID != c.ID {
		t.Fatalf("connections after the Connect: %+v, want only %s", conns, c.ID)
	}
	x := conns[0]
	if x.State != StateConnected {
		t.Fatalf("the connection says %s (last error %q), want connected", x.State, x.LastError)
	}
	e.checkOnlyLiveKey(c.ID)
}

// TestConnectAgainResolvesJournaledRefresh connects an account again while a
// refresh of its connection is journaled and unresolved: the exchange rotated
// the keys but the answer was lost, so the live grant's keys exist only in
// the relay's answer cache. The Connect must resolve it first and revoke the
// live old grant, not the spent blob (which the exchange ignores, leaving the
// rotated grant alive in no record).
func TestConnectAgainResolvesJournaledRefresh(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	e.loseRefreshAnswer(c.ID)
	if x, _ := e.agent.Connection(c.ID); x.State != StateRefreshing {
		t.Fatalf("after the lost answer the connection says %s, want refreshing", x.State)
	}
	x, err := e.agent.Connect(context.Background(), ConnectRequest{Provider: devstack.ProviderID}, nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if x.ID != c.ID || x.State != StateConnected {
		t.Fatalf("Connect gave %s in state %s, want %s connected", x.ID, x.State, c.ID)
	}
	e.idle()
	e.checkOnlyLiveKey(c.ID)
}

// TestConnectAfterCloseLeavesNothingHalfDone lets Close win against a Connect
// of an account already connected: Close marks the connections removed in
// memory only, so a Connect that then stored its grant as a new connection
// would leave the account twice in the vault. The grant must instead be
// journaled for revocation, and the next start must send it and keep the
// one connection, alive.
func TestConnectAfterCloseLeavesNothingHalfDone(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	e.stop()
	<-e.done
	e.agent.Close()
	_, err := e.agent.Connect(context.Background(), ConnectRequest{Provider: devstack.ProviderID}, nil)
	if err == nil {
		t.Fatal("Connect after Close succeeded")
	}
	if n := e.stack.Exchange.LiveKeys(); n != 2 {
		t.Fatalf("%d keys live at the exchange, want 2: the Connect did not reach it", n)
	}
	e.vault.Close()
	e.stopMu.Do(func() {})
	e.clock.Advance(time.Second) // a restart takes time; the signer starts from the clock
	e.start()
	e.idle()
	waitFor(t, "the journaled revocation of the unstored grant", func() bool {
		return e.agent.Status().PendingRevocations == 0
	})
	conns := e.agent.Connections()
	if len(conns) != 1 || conns[0].ID != c.ID || conns[0].State != StateConnected {
		t.Fatalf("connections after the restart: %+v, want only %s, connected", conns, c.ID)
	}
	k, err := e.agent.Token(context.Background(), c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.me(k); status != 200 {
		t.Fatalf("the connection's key answers %d %s", status, body)
	}
	if n := e.stack.Exchange.LiveKeys(); n != 1 {
		t.Fatalf("%d keys live at the exchange, want 1: the unstored grant lingers", n)
	}
}

// checkOnlyLiveKey checks that connection id's key answers at the exchange
// and is the only key alive there: no replaced grant lingers.
func (e *env) checkOnlyLiveKey(id string) {
	e.t.Helper()
	k, err := e.agent.Token(context.Background(), id, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	if status, body := e.me(k); status != 200 {
		e.t.Fatalf("the connection's key answers %d %s", status, body)
	}
	if n := e.stack.Exchange.LiveKeys(); n != 1 {
		e.t.Fatalf("%d keys live at the exchange, want 1: a replaced grant lingers", n)
	}
}
