package relay

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/redistest"
	"github.com/tokentray/tokentray/relayproto"
)

// withStore makes the fixture's relays share the store at url, its password in a file.
func (f *fixture) withStore(url, password, extra string) {
	f.writeFile("redis.pass", password+"\n")
	f.mutate = func(s string) string {
		return strings.Replace(s, "rate_per_minute = 100000",
			"shared_store = \""+url+"\"\nshared_store_password_file = \"redis.pass\"\n"+extra, 1)
	}
}

func TestStoreSharesRateLimit(t *testing.T) {
	rs := redistest.Start(t, "pw-rate")
	f := newFixture(t)
	f.withStore(rs.URL(), rs.Password, "rate_per_minute = 3")
	_, a := f.newRelay()
	_, b := f.newRelay()
	for i, u := range []string{a, b, a} {
		if resp, body := f.getFrom(u + "/v1/providers"); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d = %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := f.getFrom(b + "/v1/providers")
	wantError(t, resp.StatusCode, body, http.StatusTooManyRequests, "rate_limited")
	if got := resp.Header.Get("Retry-After"); got == "" || got == "0" {
		t.Errorf("Retry-After = %q, want a wait", got)
	}
}

func TestStoreBucket(t *testing.T) {
	rs := redistest.Start(t, "")
	cfg := &Config{SharedStore: rs.URL()}
	m := newMetrics()
	a, err := newSharedStore(cfg, m, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	b, _ := newSharedStore(cfg, m, discardLogger())
	defer b.close()
	ctx := context.Background()
	for i, st := range []*sharedStore{a, b, a} {
		ok, _, err := st.allow(ctx, "test", time.Minute, 3)
		if err != nil || !ok {
			t.Fatalf("take %d = %v, %v; want a token", i+1, ok, err)
		}
	}
	ok, wait, err := b.allow(ctx, "test", time.Minute, 3)
	if err != nil || ok || wait <= 0 || wait > time.Minute {
		t.Fatalf("take 4 = %v wait %s, %v; want none, a wait of up to 1m", ok, wait, err)
	}
}

func TestStoreHealthAndMetrics(t *testing.T) {
	rs := redistest.Start(t, "pw-health")
	f := newFixture(t)
	f.withStore(rs.URL(), rs.Password, "")
	r := f.serveRelay("http", nil)
	if resp, body := f.getFrom(r.url + "/healthz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz with the store up = %d %s", resp.StatusCode, body)
	}
	a := f.connect(r.url)
	if status, body := f.refresh(r.url, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh)); status != http.StatusOK {
		t.Fatalf("refresh = %d %s", status, body)
	}
	rs.Stop()
	status, body := f.refresh(r.url, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh))
	e := wantError(t, status, body, http.StatusServiceUnavailable, "store_unavailable")
	if e.Source != relayproto.SourceRelay {
		t.Errorf("source = %q, want relay", e.Source)
	}
	down := false
	for deadline := time.Now().Add(10 * time.Second); !down && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, _ := f.getFrom(r.url + "/healthz")
		down = resp.StatusCode == http.StatusServiceUnavailable
	}
	if !down {
		t.Error("healthz never answered 503 with the store down")
	}
	m := scrape(t, r.metricsURL)
	for _, want := range []string{
		`tokentray_relay_store_call_seconds_count{op="once"}`,
		`tokentray_relay_store_call_seconds_count{op="answer_or_lock"}`,
		`tokentray_relay_store_call_seconds_count{op="put_answer"}`,
		`tokentray_relay_store_call_seconds_count{op="rate"}`,
		`tokentray_relay_store_errors_total{op="once"}`,
		`tokentray_relay_requests_total{endpoint="/v1/refresh",outcome="store_unavailable"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(f.logs.String(), rs.Password) {
		t.Error("the logs hold the store's password")
	}
}

func TestStoreWrongPassword(t *testing.T) {
	rs := redistest.Start(t, "the-right-password")
	f := newFixture(t)
	f.withStore(rs.URL(), "a-wrong-password", "")
	_, u := f.newRelay()
	d := newDevice()
	q := f.walk(f.authorize(u, f.authorizeRequest(d)), "")
	if q.Get("error") != "store_unavailable" || q.Get("error_source") != "relay" {
		t.Fatalf("callback with a wrong store password: error %q source %q, want store_unavailable from the relay", q.Get("error"), q.Get("error_source"))
	}
	if strings.Contains(f.logs.String(), "a-wrong-password") {
		t.Error("the logs hold the store's password")
	}
}

func TestStorePasswordFromEnv(t *testing.T) {
	rs := redistest.Start(t, "env-password")
	f := newFixture(t)
	t.Setenv("TT_REDIS_PASSWORD", rs.Password)
	f.mutate = func(s string) string {
		return strings.Replace(s, "rate_per_minute = 100000",
			"shared_store = \""+rs.URL()+"\"\nshared_store_password_env = \"TT_REDIS_PASSWORD\"\n", 1)
	}
	_, u := f.newRelay()
	a := f.connect(u)
	if status, body := f.refresh(u, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh)); status != http.StatusOK {
		t.Fatalf("refresh = %d %s", status, body)
	}
	t.Setenv("TT_REDIS_PASSWORD", "")
	path := filepath.Join(f.dir, "relay.toml")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, WithLogger(discardLogger())); err == nil || !strings.Contains(err.Error(), "TT_REDIS_PASSWORD is not set") {
		t.Errorf("New with the variable empty = %v, want an error naming it", err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "empty.pass"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.SharedStorePasswordEnv, cfg.SharedStorePasswordFile = "", filepath.Join(f.dir, "empty.pass")
	if _, err := New(cfg, WithLogger(discardLogger())); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("New with an empty password file = %v, want an error", err)
	}
}

func TestCallbackTicketOnce(t *testing.T) {
	f := newFixture(t)
	_, u := f.newRelay()
	d := newDevice()
	q := f.walk(f.authorize(u, f.authorizeRequest(d)), "")
	if q.Get("result") == "" {
		t.Fatalf("first callback: %q", q.Get("error"))
	}
	calls := f.ex.Calls("/oauth/token")
	cb := u + "/v1/callback?" + f.lastCallback.Encode()
	resp := f.get(cb)
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("replayed callback = %d, want a redirect to the loopback", resp.StatusCode)
	}
	if got := loc.Query().Get("error"); got != "ticket_used" {
		t.Errorf("replayed callback error = %q, want ticket_used", got)
	}
	if n := f.ex.Calls("/oauth/token"); n != calls {
		t.Errorf("the replayed callback called the provider %d times", n-calls)
	}
}

// TestStoreSharesProviderLimit fills the provider's shared bucket in the store by hand:
// a replica that kept its own bucket would call the provider; these answer
// provider_busy without calling it, and call it again once the bucket is back.
func TestStoreSharesProviderLimit(t *testing.T) {
	rs := redistest.Start(t, "")
	f := newFixture(t)
	f.mutate = func(s string) string {
		return strings.Replace(s, "rate_per_minute = 100000",
			"rate_per_minute = 100000\nshared_store = \""+rs.URL()+"\"\nprovider_calls_per_second = 1", 1)
	}
	_, a := f.newRelay()
	_, b := f.newRelay()
	conn := f.connect(a)
	c := rs.Client()
	defer c.Close()
	ctx := context.Background()
	key := storePrefix + "rate:provider:exchange"
	farAhead := time.Now().Add(time.Hour).UnixMicro()
	if err := c.Set(ctx, key, farAhead, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	calls := f.ex.Calls("/oauth/token")
	for _, u := range []string{a, b} {
		status, body := f.refresh(u, conn.Refresh, f.proof(relayproto.OpRefresh, conn.Refresh))
		wantError(t, status, body, http.StatusServiceUnavailable, "provider_busy")
	}
	if n := f.ex.Calls("/oauth/token"); n != calls {
		t.Errorf("the provider was called %d times with the shared bucket empty", n-calls)
	}
	if err := c.Del(ctx, key).Err(); err != nil {
		t.Fatal(err)
	}
	if status, body := f.refresh(b, conn.Refresh, f.proof(relayproto.OpRefresh, conn.Refresh)); status != http.StatusOK {
		t.Errorf("refresh with the bucket back = %d %s", status, body)
	}
}
