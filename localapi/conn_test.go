package localapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/localclient"
)

// callExchange sends a signed GET to the simulated exchange and returns its
// status: the proof that a signature from the agent is one the exchange takes.
func callExchange(t *testing.T, e *env, path, query string) int {
	t.Helper()
	resp, err := http.Get(e.stack.ExchangeURL + path + "?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestTokenAndSign(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	if conn.State != localclient.StateConnected || conn.Provider != "exchange" || !conn.RawKeys || conn.Generation != 1 {
		t.Fatalf("Connect = %+v", conn)
	}
	for _, id := range []string{conn.ID, "exchange"} {
		t.Run("by "+id, func(t *testing.T) {
			tok := e.token(id)
			if tok.TokenType != "peatio" || len(tok.AccessKey) != 40 || len(tok.SecretKey) != 40 || tok.AccessToken != "" ||
				tok.Generation != 1 || !tok.ExpiresAt.Equal(conn.ExpiresAt) || strings.Join(tok.Scopes, ",") != "profile,history" {
				t.Fatalf("Token(%q) = type %q, generation %d, scopes %v, expires %v", id, tok.TokenType, tok.Generation, tok.Scopes, tok.ExpiresAt)
			}
			got, err := e.client.Connection(t.Context(), id)
			if err != nil || got.ID != conn.ID {
				t.Fatalf("Connection(%q) = %+v, %v", id, got, err)
			}
			s, err := e.client.Sign(t.Context(), id, localclient.SignRequest{Method: "GET", Path: "/api/v2/orders", Params: map[string]string{"market": "btcusd"}})
			if err != nil || s.AccessKey != tok.AccessKey || s.Signature == "" || s.Tonce == 0 {
				t.Fatalf("Sign(%q) = %+v, %v", id, s, err)
			}
			q, _ := url.ParseQuery(s.Query)
			if q.Get("market") != "btcusd" || q.Get("signature") != s.Signature || q.Get("access_key") != s.AccessKey {
				t.Fatalf("signed query %q lacks its parts", s.Query)
			}
			if status := callExchange(t, e, "/api/v2/orders", s.Query); status != http.StatusOK {
				t.Fatalf("the exchange answered the signed request with %d", status)
			}
		})
	}
	status, h, _ := e.raw("GET", "/v1/connections/"+conn.ID+"/token", nil, nil)
	if status != 200 || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("token answer: %d, Cache-Control %q; want no-store", status, h.Get("Cache-Control"))
	}
}

func TestKeysServedWhileTheRelayIsDown(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	e.stack.SetRelayDown(true)
	e.token(conn.ID)
	s, err := e.client.Sign(t.Context(), conn.ID, localclient.SignRequest{Method: "GET", Path: "/api/v2/members/me"})
	if err != nil || callExchange(t, e, "/api/v2/members/me", s.Query) != http.StatusOK {
		t.Fatalf("Sign with the relay down = %v", err)
	}
	_, err = e.client.Refresh(t.Context(), conn.ID, nil)
	if !errors.Is(err, localclient.ErrRelayUnreachable) {
		t.Fatalf("Refresh with the relay down = %v, want relay_unreachable", err)
	}
	var ae *localclient.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("Refresh with the relay down: %#v, want status 503", err)
	}
	e.stack.SetRelayDown(false)
	if got := e.token(conn.ID); got.Generation != 1 {
		t.Fatalf("generation after the failed refresh = %d, want 1", got.Generation)
	}
}

func TestRawKeysOff(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	off, on := false, true
	got, err := e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{RawKeys: &off})
	if err != nil || got.RawKeys {
		t.Fatalf("UpdateConnection(raw_keys=false) = %+v, %v", got, err)
	}
	_, err = e.client.Token(t.Context(), conn.ID, 0)
	if !errors.Is(err, localclient.ErrForbidden) {
		t.Fatalf("Token with raw keys off = %v, want ErrForbidden", err)
	}
	status, _, b := e.raw("GET", "/v1/connections/exchange/token", nil, nil)
	if status != http.StatusForbidden || errorOf(t, b).Code != localclient.CodeForbidden || strings.Contains(string(b), "secret") {
		t.Fatalf("token by provider id with raw keys off = %d %s", status, b)
	}
	s, err := e.client.Sign(t.Context(), conn.ID, localclient.SignRequest{Method: "GET", Path: "/api/v2/members/me"})
	if err != nil || callExchange(t, e, "/api/v2/members/me", s.Query) != http.StatusOK {
		t.Fatalf("Sign with raw keys off = %+v, %v; want a signature the exchange takes", s, err)
	}
	if _, err := e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{RawKeys: &on}); err != nil {
		t.Fatal(err)
	}
	e.token(conn.ID)
}

func TestUpdateConnectionLabel(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	label := "  Trading bot  "
	got, err := e.client.UpdateConnection(t.Context(), "exchange", localclient.ConnectionPatch{Label: &label})
	if err != nil || got.Label != "Trading bot" || got.ID != conn.ID {
		t.Fatalf("UpdateConnection(label) = %+v, %v", got, err)
	}
	bad := strings.Repeat("x", 201)
	_, err = e.client.UpdateConnection(t.Context(), conn.ID, localclient.ConnectionPatch{Label: &bad})
	if !errors.Is(err, localclient.ErrBadRequest) {
		t.Fatalf("a 201-byte label = %v, want bad_request", err)
	}
	if list, _ := e.client.Connections(t.Context()); len(list) != 1 || list[0].Label != "Trading bot" {
		t.Fatalf("after the bad label: %+v", list)
	}
}

func TestUnknownAndRevokedConnection(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	ctx := t.Context()
	res, err := e.client.Revoke(ctx, "exchange")
	if err != nil || !res.RevokedAtProvider || res.Message == "" {
		t.Fatalf("Revoke = %+v, %v", res, err)
	}
	if n := e.stack.Exchange.LiveKeys(); n != 0 {
		t.Fatalf("%d keys still live at the exchange after the revocation", n)
	}
	calls := []struct {
		name string
		call func(id string) error
	}{
		{"connection", func(id string) error { _, err := e.client.Connection(ctx, id); return err }},
		{"token", func(id string) error { _, err := e.client.Token(ctx, id, 0); return err }},
		{"sign", func(id string) error {
			_, err := e.client.Sign(ctx, id, localclient.SignRequest{Method: "GET", Path: "/x"})
			return err
		}},
		{"refresh", func(id string) error { _, err := e.client.Refresh(ctx, id, nil); return err }},
		{"update", func(id string) error {
			l := "x"
			_, err := e.client.UpdateConnection(ctx, id, localclient.ConnectionPatch{Label: &l})
			return err
		}},
		{"revoke", func(id string) error { _, err := e.client.Revoke(ctx, id); return err }},
	}
	for _, c := range calls {
		for _, id := range []string{conn.ID, "exchange", "never-was", "a/b", "%zz"} {
			t.Run(c.name+" "+id, func(t *testing.T) {
				err := c.call(id)
				var ae *localclient.Error
				if !errors.Is(err, localclient.ErrNotFound) || !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
					t.Fatalf("%s(%q) = %v, want 404 not_found", c.name, id, err)
				}
			})
		}
	}
	if list, err := e.client.Connections(ctx); err != nil || len(list) != 0 {
		t.Fatalf("Connections after revoke = %+v, %v", list, err)
	}
}

func TestNeedsReconnect(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	tok := e.token(conn.ID)
	// The user revokes the grant at the exchange's website.
	key := tok.AccessKey + ":" + tok.SecretKey
	req, _ := http.NewRequest("POST", e.stack.ExchangeURL+"/oauth/revoke", strings.NewReader(url.Values{"token": {key}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke at the exchange: %v", err)
	}
	resp.Body.Close()
	_, err = e.client.Refresh(t.Context(), conn.ID, nil)
	var ae *localclient.Error
	if !errors.Is(err, localclient.ErrNeedsReconnect) || !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Fatalf("Refresh of a revoked grant = %v, want 409 needs_reconnect", err)
	}
	if _, err := e.client.Token(t.Context(), conn.ID, 0); !errors.Is(err, localclient.ErrNeedsReconnect) {
		t.Fatalf("Token after the refusal = %v, want needs_reconnect", err)
	}
	got, err := e.client.Connection(t.Context(), conn.ID)
	if err != nil || got.State != localclient.StateNeedsReconnect {
		t.Fatalf("Connection = %+v, %v; want state needs_reconnect", got, err)
	}
	// Connecting again repairs the same connection.
	again := e.connect()
	if again.ID != conn.ID || again.State != localclient.StateConnected {
		t.Fatalf("reconnect = %+v, want %s connected", again, conn.ID)
	}
}

func TestIfGenerationMakesOneRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	before := e.token(conn.ID)
	calls := e.stack.RelayCalls("/v1/refresh")
	gen := before.Generation
	const reports = 50
	var wg sync.WaitGroup
	results := make([]*localclient.Connection, reports)
	errs := make([]error, reports)
	start := make(chan struct{})
	for i := range reports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := localclient.NewClient(e.sock) // each script its own socket connection
			<-start
			results[i], errs[i] = c.Refresh(context.Background(), conn.ID, &gen)
		}()
	}
	close(start)
	wg.Wait()
	for i := range reports {
		if errs[i] != nil || results[i].Generation != gen+1 {
			t.Fatalf("report %d: %+v, %v; want generation %d", i, results[i], errs[i], gen+1)
		}
	}
	if got := e.stack.RelayCalls("/v1/refresh") - calls; got != 1 {
		t.Fatalf("%d reports of generation %d made %d relay refreshes, want 1", reports, gen, got)
	}
	after := e.token(conn.ID)
	if after.Generation != gen+1 || after.AccessKey == before.AccessKey {
		t.Fatalf("after the refresh: generation %d, same key %v", after.Generation, after.AccessKey == before.AccessKey)
	}
	// A late report of the old generation changes nothing.
	late, err := e.client.Refresh(t.Context(), conn.ID, &gen)
	if err != nil || late.Generation != gen+1 || e.stack.RelayCalls("/v1/refresh")-calls != 1 {
		t.Fatalf("late report = %+v, %v; relay refreshes %d", late, err, e.stack.RelayCalls("/v1/refresh")-calls)
	}
	// The body is checked as JSON: a string generation is refused.
	status, _, b := e.raw("POST", "/v1/connections/"+conn.ID+"/refresh", strings.NewReader(`{"if_generation":"1"}`), nil)
	if status != 400 || errorOf(t, b).Code != localclient.CodeBadRequest {
		t.Fatalf("if_generation as a string = %d %s", status, b)
	}
}

func TestConcurrentClientsReadTokens(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	want := e.token(conn.ID)
	const clients, reads = 200, 5
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := localclient.NewClient(e.sock)
			for range reads {
				tok, err := c.Token(context.Background(), conn.ID, 0)
				if err != nil {
					errs <- err
					return
				}
				if tok.AccessKey != want.AccessKey || tok.SecretKey != want.SecretKey {
					errs <- errors.New("a client got another key")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	acts, _ := e.client.Activity(t.Context())
	n := 0
	for _, a := range acts {
		if a.Op == "token" {
			n++
		}
	}
	if n < clients*reads {
		t.Fatalf("activity holds %d token reads, want at least %d", n, clients*reads)
	}
}

func TestClientErrors(t *testing.T) {
	t.Run("agent not running", func(t *testing.T) {
		c := localclient.NewClient(shortDir(t) + "/none.sock")
		if _, err := c.Status(t.Context()); !errors.Is(err, localclient.ErrAgentNotRunning) {
			t.Fatalf("Status without an agent = %v, want ErrAgentNotRunning", err)
		}
	})
	t.Run("stale socket", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.daemon.Stop()
		if _, err := e.client.Status(t.Context()); !errors.Is(err, localclient.ErrAgentNotRunning) {
			t.Fatalf("Status after the agent stopped = %v, want ErrAgentNotRunning", err)
		}
	})
	t.Run("sentinels differ", func(t *testing.T) {
		err := error(&localclient.Error{Code: localclient.CodeForbidden, Message: "no", Status: 403})
		if !errors.Is(err, localclient.ErrForbidden) || errors.Is(err, localclient.ErrNotFound) || err.Error() != "no" {
			t.Fatalf("errors.Is on %v is wrong", err)
		}
	})
	t.Run("non-JSON error body", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		// A 404 of the agent always has a code; the client keeps it.
		_, err := e.client.Token(t.Context(), "nope", 0)
		var ae *localclient.Error
		if !errors.As(err, &ae) || ae.Code != localclient.CodeNotFound || !strings.Contains(ae.Message, "nope") {
			t.Fatalf("Token(nope) = %#v", err)
		}
	})
}

// TestTokenMinValidRefreshes uses a clock the test moves, so that a key can
// be close to its end without waiting hours.
func TestTokenMinValidRefreshes(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk})
	conn := e.connect()
	tok := e.token(conn.ID)
	// A fresh 4h key satisfies any min_valid: asking more than half the
	// lifetime is capped at half.
	got, err := e.client.Token(t.Context(), conn.ID, 24*time.Hour)
	if err != nil || got.Generation != tok.Generation {
		t.Fatalf("Token(min_valid=24h) on a fresh key = generation %d, %v; want no refresh", got.Generation, err)
	}
	clk.Advance(2*time.Hour + time.Minute)
	got, err = e.client.Token(t.Context(), conn.ID, time.Hour)
	if err != nil || got.Generation != tok.Generation {
		t.Fatalf("Token(min_valid=1h) with 1h59m left = generation %d, %v; want no refresh", got.Generation, err)
	}
	got, err = e.client.Token(t.Context(), conn.ID, 3*time.Hour)
	if err != nil || got.Generation != tok.Generation+1 || got.AccessKey == tok.AccessKey {
		t.Fatalf("Token(min_valid=3h) with 1h59m left = generation %d, %v; want a refreshed key", got.Generation, err)
	}
	e.remember(got.SecretKey)
	body, _ := json.Marshal(got.ExpiresAt)
	if !got.ExpiresAt.After(clk.Now().Add(3 * time.Hour)) {
		t.Fatalf("refreshed key expires at %s", body)
	}
}
