package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
)

func TestLostRefreshAnswerIsRecovered(t *testing.T) {
	tests := []struct {
		name  string
		fault func(e *env)
	}{
		{"answer lost after rotation", func(e *env) { e.stack.DropRelayAnswers(1) }},
		{"provider sends html, answer lost", func(e *env) {
			e.stack.DropRelayAnswers(1)
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
// reach past its 2-minute answer cache (CONTRACTS §3). The new refresh token
// existed only in that cache, so the provider refuses the old one and the
// connection needs a reconnect; the agent says so instead of retrying forever.
func TestLostAnswerThenLongOutage(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	e.stack.DropRelayAnswers(1)
	if _, err := e.agent.Refresh(context.Background(), c.ID, nil); err == nil {
		t.Fatal("the answer was not lost")
	}
	e.stack.SetRelayDown(true)
	e.clock.Advance(relayAnswerWindow + time.Minute)
	// The scheduler's own retries run while the relay is down; let the last
	// one end, or the Refresh below would join it and get its dial error.
	e.idle()
	e.stack.SetRelayDown(false)
	_, err := e.agent.Refresh(context.Background(), c.ID, nil)
	if !errors.Is(err, ErrNeedsReconnect) {
		t.Fatalf("Refresh after the window = %v, want needs reconnect", err)
	}
}
