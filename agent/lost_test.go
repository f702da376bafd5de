package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayclient"
	"github.com/tokentray/tokentray/relayproto"
)

// lostAnswers is how many relay answers a test drops to lose a refresh's
// answer: the relay client sends a call cut on its kept connection once
// more at once, which would otherwise recover it. A drop left over (the
// call went out on a new connection) is cleared after the call.
const lostAnswers = 2

// loseRefreshAnswer refreshes connection id and loses the relay's answer
// after the exchange rotated the keys: the refresh fails, journaled.
func (e *env) loseRefreshAnswer(id string) {
	e.t.Helper()
	e.stack.DropRelayAnswers(lostAnswers)
	if _, err := e.agent.Refresh(context.Background(), id, nil); err == nil {
		e.t.Fatal("the answer was not lost")
	}
	e.stack.DropRelayAnswers(0)
}

func TestLostRefreshAnswerIsRecovered(t *testing.T) {
	tests := []struct {
		name  string
		fault func(e *env)
	}{
		{"answer lost after rotation", func(e *env) { e.stack.DropRelayAnswers(lostAnswers) }},
		{"provider sends html, answer lost", func(e *env) {
			e.stack.DropRelayAnswers(lostAnswers)
			e.stack.Exchange.FailNext("/oauth/token", 1, fakeexchange.FailNonJSON)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.connect()
			e.idle()
			tt.fault(e)
			if _, err := e.agent.Refresh(context.Background(), c.ID, nil); err == nil {
				t.Fatal("the first refresh succeeded: the fault did not happen")
			}
			e.stack.DropRelayAnswers(0)
			e.clock.Advance(5 * time.Second)
			x, err := e.agent.Refresh(context.Background(), c.ID, nil)
			if err != nil {
				t.Logf("relay calls: %d, token calls: %d", e.stack.RelayCalls("/v1/refresh"), e.stack.Exchange.Calls("/oauth/token"))
				t.Fatalf("the retry: %v", err)
			}
			k, _ := e.agent.Token(context.Background(), c.ID, 0)
			if status, _ := e.me(k); status != 200 || x.Generation != 2 {
				t.Fatalf("after recovery: generation %d, key answers %d", x.Generation, status)
			}
		})
	}
}

// TestLostAnswerThenLongOutage documents the one loss the device cannot
// prevent: the keys rotated, the answer was lost, and the relay stayed out of
// reach past its 2-minute answer cache (docs/relay.md §3). The new refresh token
// existed only in that cache, so the provider refuses the old one and the
// connection needs a reconnect; the agent says so instead of retrying forever.
func TestLostAnswerThenLongOutage(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	e.loseRefreshAnswer(c.ID)
	e.stack.SetRelayDown(true)
	e.clock.Advance(relayproto.AnswerWindow + time.Minute)
	// The scheduler's own retries run while the relay is down; let the last
	// one end, or the Refresh below would join it and get its dial error.
	e.idle()
	e.stack.SetRelayDown(false)
	_, err := e.agent.Refresh(context.Background(), c.ID, nil)
	if !errors.Is(err, ErrNeedsReconnect) {
		t.Fatalf("Refresh after the window = %v, want needs reconnect", err)
	}
}

// TestJournaledRefreshResolvedAtStart loses a refresh answer after the
// exchange rotated the keys, so that the vault holds a spent refresh blob
// and a dead key. Until a retry resolves it the connection says refreshing,
// and the next start retries it at once, by itself, with the same blob,
// getting the relay's kept answer.
func TestJournaledRefreshResolvedAtStart(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	old, _ := e.agent.Token(context.Background(), c.ID, 0)
	e.loseRefreshAnswer(c.ID)
	if status, _ := e.me(old); status != 401 {
		t.Fatalf("the old key answers %d: the exchange did not rotate", status)
	}
	if x, _ := e.agent.Connection(c.ID); x.State != StateRefreshing || x.Generation != c.Generation {
		t.Fatalf("after the lost answer: state %s, generation %d; want refreshing, %d", x.State, x.Generation, c.Generation)
	}
	e.restart()
	waitFor(t, "the journaled refresh to be resolved", func() bool {
		x, _ := e.agent.Connection(c.ID)
		return x.State == StateConnected && x.Generation == c.Generation+1
	})
	k, err := e.agent.Token(context.Background(), c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := e.me(k); status != 200 {
		t.Fatalf("the resolved key answers %d", status)
	}
	if calls := e.stack.Exchange.Calls("/oauth/token"); calls != 2 {
		t.Fatalf("the exchange saw %d token calls, want 2 (connect and one rotation)", calls)
	}
}

func TestMayHaveReachedProvider(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused dial", fmt.Errorf("relay refresh: %w: %w", relayclient.ErrRelayUnreachable, dial), false},
		{"reset after sending", fmt.Errorf("relay refresh: %w: %w", relayclient.ErrRelayUnreachable, read), true},
		{"timeout", fmt.Errorf("relay refresh: %w", context.DeadlineExceeded), true},
		{"agent stopping", fmt.Errorf("relay refresh: %w", context.Canceled), true},
		{"relay's provider timeout", &oauthflow.Error{Code: "provider_unavailable", Source: relayproto.SourceProvider, HTTPStatus: 502}, true},
		{"relay fault", &oauthflow.Error{Code: "internal", Source: relayproto.SourceRelay, HTTPStatus: 500}, true},
		{"store down", &oauthflow.Error{Code: "store_unavailable", Source: relayproto.SourceRelay, HTTPStatus: 503}, false},
		{"rate limited", &oauthflow.Error{Code: "rate_limited", Source: relayproto.SourceRelay, HTTPStatus: 429}, false},
		{"stale proof", &oauthflow.Error{Code: "stale_proof", Source: relayproto.SourceRelay, HTTPStatus: 401}, false},
		{"answer not JSON", fmt.Errorf("relay refresh: %w", oauthflow.ErrBadResponse), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mayHaveReachedProvider(tt.err); got != tt.want {
				t.Errorf("mayHaveReachedProvider(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
