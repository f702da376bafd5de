package agent

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
)

func TestConnectServesWorkingKey(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	if c.State != StateConnected || c.Account != "ID1A2B3C4D5E" || c.Label != "Alice Trader's EXchange" {
		t.Fatalf("Connect = %+v, want a connected Alice Trader's EXchange", c)
	}
	if got := strings.Join(c.ScopesGranted, " "); got != "profile history" {
		t.Errorf("scopes granted = %q, want the defaults %q", got, "profile history")
	}
	k, err := e.agent.Token(context.Background(), devstack.ProviderID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.AccessKey) != 40 || len(k.SecretKey) != 40 || k.Generation != 1 {
		t.Fatalf("Token = type %s, key lengths %d/%d, generation %d", k.TokenType, len(k.AccessKey), len(k.SecretKey), k.Generation)
	}
	if status, body := e.me(k); status != 200 || !strings.Contains(body, "Alice Trader") {
		t.Fatalf("members/me with the served key = %d %s", status, body)
	}
}

func TestConnectSameAccountUpdatesInPlace(t *testing.T) {
	e := newEnv(t)
	first := e.connect()
	old, _ := e.agent.Token(context.Background(), first.ID, 0)
	second := e.connect("profile", "trade")
	if second.ID != first.ID || len(e.agent.Connections()) != 1 {
		t.Fatalf("a second connect of one account made %d connections (ids %s, %s)", len(e.agent.Connections()), first.ID, second.ID)
	}
	if got := strings.Join(second.ScopesGranted, " "); got != "profile trade" {
		t.Errorf("scopes after reconnect = %q, want %q", got, "profile trade")
	}
	// The old grant is revoked in the background: its key dies.
	waitFor(t, "the old grant's revocation", func() bool {
		status, _ := e.me(Key{AccessKey: old.AccessKey, SecretKey: old.SecretKey})
		return status == 401
	})
	k, _ := e.agent.Token(context.Background(), first.ID, 0)
	if status, _ := e.me(k); status != 200 {
		t.Fatalf("the new key answers %d", status)
	}
}

func TestConnectRefusesBadRequests(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		req  ConnectRequest
		want error
		text string
	}{
		{"unknown provider", ConnectRequest{Provider: "nope"}, ErrUnknownProvider, `"nope"`},
		{"unknown scope", ConnectRequest{Provider: "exchange", Scopes: []string{"withdraw"}}, ErrBadRequest, `"withdraw"`},
		{"unknown field", ConnectRequest{Provider: "exchange", Fields: map[string]string{"region": "eu"}}, ErrBadRequest, `"region"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.agent.Connect(context.Background(), tt.req, nil)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("Connect(%+v) = %v, want %v naming %s", tt.req, err, tt.want, tt.text)
			}
		})
	}
	if n := len(e.agent.Connections()); n != 0 {
		t.Fatalf("refused connects left %d connections", n)
	}
	if n := e.stack.Exchange.Calls("/oauth/authorize"); n != 0 {
		t.Fatalf("refused connects reached the exchange %d times", n)
	}
}

func TestScheduledRefreshRotatesKeys(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	old, _ := e.agent.Token(context.Background(), c.ID, 0)
	e.idle()
	// 4h keys, 10 min margin: nothing happens at 3h49, a refresh at 3h50.
	e.clock.Set(c.ExpiresAt.Add(-11 * time.Minute))
	e.idle()
	if got := e.stack.RelayCalls("/v1/refresh"); got != 0 {
		t.Fatalf("refreshed %d times before the margin", got)
	}
	e.clock.Set(c.ExpiresAt.Add(-DefaultRefreshMargin))
	waitFor(t, "the scheduled refresh", func() bool { x, _ := e.agent.Connection(c.ID); return x.Generation == 2 })
	e.idle()
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	if k.AccessKey == old.AccessKey {
		t.Fatal("the refresh kept the old key")
	}
	if status, body := e.me(Key{AccessKey: old.AccessKey, SecretKey: old.SecretKey}); status != 401 || !strings.Contains(body, "2008") {
		t.Errorf("the old key answers %d %s, want 2008", status, body)
	}
	if status, _ := e.me(k); status != 200 {
		t.Errorf("the new key answers %d", status)
	}
}

func TestManyCallersOneRefresh(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	e.clock.Set(c.ExpiresAt.Add(time.Minute)) // the laptop slept past expiry
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := e.agent.Token(context.Background(), c.ID, time.Hour)
			if err == nil && k.Generation != 2 {
				err = errors.New("a caller got a key of generation " + string(rune('0'+k.Generation)))
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := e.stack.RelayCalls("/v1/refresh"); got != 1 {
		t.Fatalf("1000 callers made %d relay refreshes, want 1", got)
	}
}

func TestDeadKeyReportsOneRefresh(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	gen := c.Generation
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.agent.Refresh(context.Background(), c.ID, &gen); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := e.stack.RelayCalls("/v1/refresh"); got != 1 {
		t.Fatalf("50 reports of generation %d made %d refreshes, want 1", gen, got)
	}
	// A late report of the same dead generation changes nothing.
	x, err := e.agent.Refresh(context.Background(), c.ID, &gen)
	if err != nil || x.Generation != gen+1 || e.stack.RelayCalls("/v1/refresh") != 1 {
		t.Fatalf("a stale report: generation %d, err %v, %d refreshes", x.Generation, err, e.stack.RelayCalls("/v1/refresh"))
	}
}

func TestMinValidIsCappedAtHalfTheLifetime(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	// A fresh 4h key satisfies any min_valid: the cap is 2h.
	if _, err := e.agent.Token(context.Background(), c.ID, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := e.stack.RelayCalls("/v1/refresh"); got != 0 {
		t.Fatalf("min_valid=24h on a fresh key made %d refreshes", got)
	}
	e.clock.Advance(2*time.Hour + time.Minute)
	k, err := e.agent.Token(context.Background(), c.ID, 24*time.Hour)
	if err != nil || k.Generation != 2 {
		t.Fatalf("min_valid past half the life: generation %d, err %v", k.Generation, err)
	}
}

func TestRelayDownKeysServedUntilExpiryThenRecover(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	e.stack.SetRelayDown(true)
	// The relay's kept-alive connection from the Connect is closed at its end;
	// a refresh sent on it before the client notices fails with EOF, which
	// may have reached the relay, so the journal rightly stays (refreshing).
	// The outage this test means is one the refreshes dial into.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	// An hour of retries around the refresh point: the key is still served.
	e.clock.Set(c.ExpiresAt.Add(-DefaultRefreshMargin))
	for e.clock.Now().Before(c.ExpiresAt.Add(-time.Minute)) {
		e.idle()
		next := e.nextTimer()
		e.clock.Set(next)
	}
	e.idle()
	x, _ := e.agent.Connection(c.ID)
	if x.State != StateConnected || x.LastError == "" {
		t.Fatalf("before expiry with the relay down: state %s, last error %q", x.State, x.LastError)
	}
	if _, err := e.agent.Token(context.Background(), c.ID, 0); err != nil {
		t.Fatalf("the still-valid key was not served: %v", err)
	}
	e.clock.Set(c.ExpiresAt.Add(50 * time.Minute))
	e.idle()
	if x, _ := e.agent.Connection(c.ID); x.State != StateExpired {
		t.Fatalf("after expiry with the relay down: state %s, want expired", x.State)
	}
	if _, err := e.agent.Token(context.Background(), c.ID, 0); !errors.Is(err, ErrRelayUnreachable) {
		t.Fatalf("Token after expiry = %v, want relay unreachable", err)
	}
	e.stack.SetRelayDown(false)
	// The next retry (at most 5 minutes of backoff away) recovers.
	limit := e.clock.Now().Add(6 * time.Minute)
	for x, _ := e.agent.Connection(c.ID); x.State != StateConnected; x, _ = e.agent.Connection(c.ID) {
		if e.clock.Now().After(limit) {
			t.Fatalf("no recovery 6 minutes after the relay returned: %+v", x)
		}
		next := e.nextTimer()
		e.clock.Set(next)
		e.idle()
	}
	k, err := e.agent.Token(context.Background(), c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := e.me(k); status != 200 {
		t.Fatalf("the recovered key answers %d", status)
	}
}

func TestProviderRefusalNeedsReconnect(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	// The user revokes the grant at the exchange's website.
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	e.revokeAtExchange(k)
	_, err := e.agent.Refresh(context.Background(), c.ID, nil)
	if !errors.Is(err, ErrNeedsReconnect) || !strings.Contains(err.Error(), "invalid_request") {
		t.Fatalf("Refresh of a revoked grant = %v, want needs reconnect with the provider's invalid_request", err)
	}
	x, _ := e.agent.Connection(c.ID)
	if x.State != StateNeedsReconnect {
		t.Fatalf("state = %s, want needs_reconnect", x.State)
	}
	if _, err := e.agent.Token(context.Background(), c.ID, 0); !errors.Is(err, ErrNeedsReconnect) {
		t.Fatalf("Token = %v, want needs reconnect", err)
	}
	e.restart()
	if x, _ := e.agent.Connection(c.ID); x.State != StateNeedsReconnect {
		t.Fatalf("after restart state = %s, want needs_reconnect kept", x.State)
	}
	// Connecting again heals the same connection.
	if again := e.connect(); again.ID != c.ID || again.State != StateConnected {
		t.Fatalf("reconnect = %+v", again)
	}
}

func TestRestartKeepsConnections(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	before, _ := e.agent.Token(context.Background(), c.ID, 0)
	e.restart()
	after, err := e.agent.Token(context.Background(), c.ID, 0)
	if err != nil || after.AccessKey != before.AccessKey || after.Generation != before.Generation {
		t.Fatalf("after restart: err %v, same key %t, generation %d", err, after.AccessKey == before.AccessKey, after.Generation)
	}
	// The restored refresh blob still works.
	if _, err := e.agent.Refresh(context.Background(), c.ID, nil); err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
}

func TestRawKeysOff(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	off := false
	if _, err := e.agent.UpdateConnection(c.ID, ConnectionPatch{RawKeys: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.agent.Token(context.Background(), c.ID, 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Token with raw keys off = %v, want forbidden", err)
	}
	s, _, err := e.agent.Sign(context.Background(), c.ID, "GET", "/api/v2/members/me", nil)
	if err != nil || s.Signature == "" {
		t.Fatalf("Sign with raw keys off = %v; signing must still work", err)
	}
}

func TestUpdateConnectionRefusesBadLabel(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	for _, label := range []string{"", "   ", "two\nlines", strings.Repeat("x", 201)} {
		if _, err := e.agent.UpdateConnection(c.ID, ConnectionPatch{Label: &label}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("label %q: err %v, want bad request", label, err)
		}
	}
	if x, _ := e.agent.Connection(c.ID); x.Label != c.Label {
		t.Fatalf("a refused label changed it to %q", x.Label)
	}
	label := "main account"
	e.agent.UpdateConnection(c.ID, ConnectionPatch{Label: &label})
	e.connect() // a reconnect keeps the user's label
	if x, _ := e.agent.Connection(c.ID); x.Label != label {
		t.Fatalf("label after reconnect = %q, want the user's %q", x.Label, label)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	res, err := e.agent.Revoke(context.Background(), c.ID)
	if err != nil || !res.RevokedAtProvider {
		t.Fatalf("Revoke = %+v, %v", res, err)
	}
	if status, _ := e.me(k); status != 401 {
		t.Fatalf("the revoked key answers %d", status)
	}
	if _, err := e.agent.Connection(c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a revoked connection is still there: %v", err)
	}
	if keys := e.vault.Keys(""); len(keys) != 0 && strings.Contains(strings.Join(keys, ","), c.ID) {
		t.Fatalf("the vault still holds %v", keys)
	}
}

func TestRevokeWithRelayDownWipesAndRetries(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	e.stack.SetRelayDown(true)
	res, err := e.agent.Revoke(context.Background(), c.ID)
	if err != nil || res.RevokedAtProvider || !strings.Contains(res.Message, "retry") {
		t.Fatalf("Revoke with the relay down = %+v, %v", res, err)
	}
	if len(e.agent.Connections()) != 0 {
		t.Fatal("the connection was not wiped locally")
	}
	if n := e.agent.Status().PendingRevocations; n != 1 {
		t.Fatalf("Status().PendingRevocations = %d, want 1", n)
	}
	e.restart() // the pending revocation survives a restart
	e.idle()
	if n := e.agent.Status().PendingRevocations; n != 1 {
		t.Fatalf("after a restart with the relay down Status().PendingRevocations = %d, want 1", n)
	}
	e.stack.SetRelayDown(false)
	e.clock.Advance(11 * time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", tail(e.logs.String(), 4000))
		}
	})
	waitFor(t, "the retried revocation", func() bool { status, _ := e.me(k); return status == 401 })
	e.idle()
	if keys := e.vault.Keys(revokePrefix); len(keys) != 0 {
		t.Fatalf("pending revocations left: %v", keys)
	}
	if n := e.agent.Status().PendingRevocations; n != 0 {
		t.Fatalf("Status().PendingRevocations = %d after the retry, want 0", n)
	}
}

// TestRevokeJournalHidesAWipeCutShort puts back the connection's record, as
// a crash between the journal and the wipe would leave it: the next start
// must not list the connection, and must still send the revocation.
func TestRevokeJournalHidesAWipeCutShort(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	saved, ok := e.vault.Get(connPrefix + c.ID)
	if !ok {
		t.Fatal("no saved connection")
	}
	e.stack.SetRelayDown(true)
	if res, err := e.agent.Revoke(context.Background(), c.ID); err != nil || res.RevokedAtProvider {
		t.Fatalf("Revoke with the relay down = %+v, %v", res, err)
	}
	if err := e.vault.Put(connPrefix+c.ID, saved); err != nil {
		t.Fatal(err)
	}
	e.stack.SetRelayDown(false)
	e.restart()
	if list := e.agent.Connections(); len(list) != 0 {
		t.Fatalf("the restarted agent lists %d connection(s), want none", len(list))
	}
	waitFor(t, "the revocation sent at start", func() bool { status, _ := e.me(k); return status == 401 })
	e.idle()
	if keys := e.vault.Keys(""); strings.Contains(strings.Join(keys, ","), c.ID) {
		t.Fatalf("the vault still holds %v", keys)
	}
}

func TestEventsFollowTheConnection(t *testing.T) {
	e := newEnv(t)
	events, cancel := e.agent.Subscribe()
	defer cancel()
	c := e.connect()
	e.idle()
	e.agent.Refresh(context.Background(), c.ID, nil)
	e.agent.Revoke(context.Background(), c.ID)
	var got []string
	for len(got) < 4 {
		select {
		case ev := <-events:
			got = append(got, ev.Type)
		case <-time.After(5 * time.Second):
			t.Fatalf("events so far %v", got)
		}
	}
	want := "connected state refreshed revoked"
	if strings.Join(got, " ") != want {
		t.Fatalf("events = %v, want %s", got, want)
	}
}

func TestLogsHoldNoSecret(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	e.agent.Refresh(context.Background(), c.ID, nil)
	k2, _ := e.agent.Token(context.Background(), c.ID, 0)
	logs := e.logs.String()
	for _, secret := range []string{k.AccessKey, k.SecretKey, k2.AccessKey, k2.SecretKey} {
		if strings.Contains(logs, secret) {
			t.Fatal("a key reached the agent's log")
		}
	}
	if !strings.Contains(logs, "refreshed") {
		t.Fatal("the log is empty: the test would pass for the wrong reason")
	}
}

func TestActivityNamesTheConnection(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.agent.LogActivity(Activity{PID: 42, Exe: "/usr/bin/python3", Connection: "exchange", Op: "token"})
	e.agent.LogActivity(Activity{PID: 43, Exe: "/usr/bin/curl", Connection: "nope", Op: "token"})
	got := e.agent.Activity()
	if len(got) != 2 || got[0].Connection != "nope" || got[1].Connection != c.ID || got[1].PID != 42 {
		t.Fatalf("activity = %+v, want newest first, the provider id resolved to %s", got, c.ID)
	}
}
