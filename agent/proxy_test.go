package agent

import (
	"context"
	"errors"
	"io"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// proxy sends r through the agent's proxy and returns the answer.
func (e *env) proxy(id string, r oauthflow.APIRequest) (int, string) {
	e.t.Helper()
	resp, err := e.agent.Proxy(context.Background(), id, r)
	if err != nil {
		e.t.Fatalf("Proxy: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProxyGetAndPost(t *testing.T) {
	e := newEnvWith(t, nil, devstack.Options{DefaultParams: map[string]string{"api_version": "2"}})
	c := e.connect("profile", "history", "trade")
	status, body := e.proxy(c.ID, oauthflow.APIRequest{Method: "GET", Path: "members/me"})
	if status != 200 || !strings.Contains(body, "Alice Trader") {
		t.Fatalf("proxied GET members/me = %d %s", status, body)
	}
	form := url.Values{"market": {"btcusd"}, "side": {"buy"}, "volume": {"0.5"}, "price": {"100"}}
	status, body = e.proxy(c.ID, oauthflow.APIRequest{Method: "POST", Path: "orders", Params: form})
	if status != 201 || !strings.Contains(body, "btcusd") {
		t.Fatalf("proxied POST orders = %d %s", status, body)
	}
	status, body = e.proxy(c.ID, oauthflow.APIRequest{Method: "GET", Path: "orders", Params: url.Values{"market": {"btcusd"}}})
	if status != 200 || !strings.Contains(body, `"side":"buy"`) {
		t.Fatalf("proxied GET orders?market = %d %s", status, body)
	}
}

func TestProxyExpiredKeyOnGetRefreshesOnce(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	e.idle()
	e.stack.Exchange.ExpireAllKeys() // the exchange says 2010 although the agent thinks the key lives
	status, body := e.proxy(c.ID, oauthflow.APIRequest{Method: "GET", Path: "members/me"})
	if status != 200 {
		t.Fatalf("GET after 2010 = %d %s, want the retry's 200", status, body)
	}
	if got := e.stack.RelayCalls("/v1/refresh"); got != 1 {
		t.Fatalf("%d refreshes, want 1", got)
	}
	if x, _ := e.agent.Connection(c.ID); x.Generation != 2 {
		t.Fatalf("generation %d, want 2", x.Generation)
	}
}

func TestProxyDeadKeyOnPostPassedThrough(t *testing.T) {
	e := newEnv(t)
	c := e.connect("profile", "trade")
	k, _ := e.agent.Token(context.Background(), c.ID, 0)
	e.revokeAtExchange(k) // the key is gone: 2008
	before := e.stack.Exchange.Calls("/api/v2/orders")
	form := url.Values{"market": {"btcusd"}, "side": {"buy"}, "volume": {"1"}, "price": {"1"}}
	status, body := e.proxy(c.ID, oauthflow.APIRequest{Method: "POST", Path: "orders", Params: form})
	if status != 401 || !strings.Contains(body, `"code":2008`) {
		t.Fatalf("POST with a dead key = %d %s, want the exchange's 2008 verbatim", status, body)
	}
	if n := e.stack.Exchange.Calls("/api/v2/orders") - before; n != 1 {
		t.Fatalf("the POST was sent %d times, want once", n)
	}
	if got := e.stack.RelayCalls("/v1/refresh"); got != 0 {
		t.Fatalf("a POST made %d refreshes, want none", got)
	}
}

func TestProxyRefusesEscapes(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	before := e.stack.Exchange.Calls("")
	for _, p := range []string{"../oauth/token", "..%2f..%2foauth/revoke", "//127.0.0.1:1/x", "http://evil.example.com/x", "%2e%2e/x", "a/../../x"} {
		_, err := e.agent.Proxy(context.Background(), c.ID, oauthflow.APIRequest{Method: "GET", Path: p})
		if !errors.Is(err, ErrBadRequest) || !errors.Is(err, oauthflow.ErrPathRefused) {
			t.Errorf("Proxy(%q) = %v, want a refused path", p, err)
		}
	}
	if n := e.stack.Exchange.Calls(""); n != before {
		t.Fatalf("refused paths reached the exchange %d times", n-before)
	}
}

func TestProxyHungExchangeTimesOut(t *testing.T) {
	e := newEnvTuned(t, func(c *Config) { c.ProxyTimeout = 300 * time.Millisecond })
	c := e.connect()
	e.stack.Exchange.FailNext("/api/v2/members/me", 1, fakeexchange.FailHang)
	_, err := e.agent.Proxy(context.Background(), c.ID, oauthflow.APIRequest{Method: "GET", Path: "members/me"})
	var oe *oauthflow.Error
	if !errors.As(err, &oe) || oe.Code != "provider_unavailable" || strings.Contains(err.Error(), "signature") {
		t.Fatalf("a hung exchange: %v, want provider_unavailable without the signed URL", err)
	}
}

func TestProxyStreamsLargeAnswers(t *testing.T) {
	e := newEnv(t)
	c := e.connect()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	resp, err := e.agent.Proxy(context.Background(), c.ID, oauthflow.APIRequest{Method: "GET", Path: "trades",
		Params: url.Values{"market": {"btcusd"}, "limit": {"100000"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 32<<10)
	total := 0
	for {
		n, err := resp.Body.Read(buf)
		total += n
		if total/(1<<20) != (total-n)/(1<<20) { // once a MiB
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if total < 10<<20 {
		t.Fatalf("the answer was %d bytes; the test needs at least 10 MiB", total)
	}
	if grown := int64(peak) - int64(base); grown > 4<<20 {
		t.Fatalf("the heap grew by %d bytes while %d streamed through: the answer was held", grown, total)
	}
}

func TestFieldsReachLabelAndAPIBase(t *testing.T) {
	so := devstack.Options{
		Fields: []relayproto.Field{{Name: "environment", Label: "Environment", Kind: "select",
			Options: []string{"production", "sandbox"}, Required: true, Default: "production"},
			{Name: "desk", Label: "Desk", Kind: "text"}},
		Label: "{{.name}} ({{.fields.environment}})",
	}
	e := newEnvWith(t, nil, so)
	ctx := context.Background()
	if _, err := e.agent.Connect(ctx, ConnectRequest{Provider: "exchange", Fields: map[string]string{"environment": "staging"}}, nil); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "production") {
		t.Fatalf("a select value outside its options: %v", err)
	}
	c, err := e.agent.Connect(ctx, ConnectRequest{Provider: "exchange", Fields: map[string]string{"environment": "sandbox", "desk": "fx"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Label != "Alice Trader (sandbox)" || c.Fields["environment"] != "sandbox" || c.Fields["desk"] != "fx" {
		t.Fatalf("connection = label %q, fields %v", c.Label, c.Fields)
	}
	// The default fills a field left out.
	c, _ = e.agent.Connect(ctx, ConnectRequest{Provider: "exchange"}, nil)
	if c.Fields["environment"] != "production" {
		t.Fatalf("fields without a value = %v, want the default environment", c.Fields)
	}
}

func TestRenderAPIBase(t *testing.T) {
	p := oauthflow.Provider{Provider: relayproto.Provider{Name: "X", APIBase: "https://{{.fields.environment}}.x.example.com/api", AllowedHosts: []string{"*.x.example.com"}}}
	got, err := renderAPIBase(p, map[string]string{"environment": "sandbox"})
	if err != nil || got != "https://sandbox.x.example.com/api" {
		t.Fatalf("renderAPIBase = %q, %v", got, err)
	}
	if _, err := renderAPIBase(p, map[string]string{}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("a missing field: %v, want bad request", err)
	}
	if _, err := renderAPIBase(p, map[string]string{"environment": "evil.com/"}); err == nil {
		t.Fatal("a field that moves api_base off the allowed hosts was accepted")
	}
}
