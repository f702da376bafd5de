package localapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localclient"
)

func TestProxy(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	if _, err := e.client.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID, Scopes: []string{"profile", "history", "trade"}}, nil); err != nil {
		t.Fatal(err)
	}
	status, h, body := e.raw("GET", "/v1/connections/exchange/proxy/members/me", nil, nil)
	if status != 200 || !bytes.Contains(body, []byte("Alice Trader")) || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("GET proxy/members/me = %d %s %s", status, h.Get("Content-Type"), body)
	}
	form := url.Values{"market": {"btcusd"}, "side": {"sell"}, "volume": {"2"}, "price": {"30000"}}
	status, _, body = e.raw("POST", "/v1/connections/exchange/proxy/orders", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if status != 201 || !bytes.Contains(body, []byte(`"side":"sell"`)) {
		t.Fatalf("POST proxy/orders = %d %s", status, body)
	}
	status, _, body = e.raw("GET", "/v1/connections/exchange/proxy/orders?market=btcusd", nil, nil)
	var orders []map[string]any
	if status != 200 || json.Unmarshal(body, &orders) != nil || len(orders) != 1 {
		t.Fatalf("GET proxy/orders?market = %d %s", status, body)
	}
	status, _, body = e.raw("GET", "/v1/connections/exchange/proxy/trades?market=btcusd&limit=100000", nil, nil)
	if status != 200 || len(body) < 10<<20 || body[0] != '[' || body[len(body)-2] != ']' && body[len(body)-1] != ']' {
		t.Fatalf("a large answer arrived as %d bytes, status %d", len(body), status)
	}
}

func TestProxyRefusesEscapes(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.connect()
	before := e.stack.Exchange.Calls("")
	tests := []struct {
		path string
		code string
	}{
		{"..%2f..%2foauth/token", "forbidden"},
		{"%2e%2e/%2e%2e/oauth/revoke", "forbidden"},
		{"../../oauth/token", "forbidden"},
		{"a//b", "forbidden"},
		{"a%2Fb", "forbidden"},
		{"%5c%5cevil.example.com", "forbidden"},
		{"x%252e%252e", "forbidden"},
	}
	for _, tt := range tests {
		status, _, body := e.raw("GET", "/v1/connections/exchange/proxy/"+tt.path, nil, nil)
		if status != 403 || !bytes.Contains(body, []byte(`"code":"`+tt.code+`"`)) || !bytes.Contains(body, []byte("path refused")) {
			t.Errorf("proxy/%s = %d %s, want a %s refusal", tt.path, status, body, tt.code)
		}
	}
	if n := e.stack.Exchange.Calls("") - before; n != 0 {
		t.Fatalf("refused paths reached the exchange %d times", n)
	}
}

func TestProxyUnknownConnection(t *testing.T) {
	e := newEnv(t, envOptions{})
	status, _, body := e.raw("GET", "/v1/connections/nope/proxy/members/me", nil, nil)
	if status != 404 || !bytes.Contains(body, []byte(`"not_found"`)) {
		t.Fatalf("proxy on an unknown connection = %d %s", status, body)
	}
}
