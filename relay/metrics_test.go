package relay

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/relayproto"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.limitTo("8", "")
	r := f.serveRelay("http", nil)

	// On the public listener /metrics does not exist.
	resp, body := f.getFrom(r.url + "/metrics")
	wantError(t, resp.StatusCode, body, http.StatusNotFound, "not_found")

	a := f.connect(r.url) // authorize, callback, redeem
	status, body := f.refresh(r.url, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh))
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %s", status, body)
	}
	b := decodeAnswer(t, body)
	f.ex.FailNext("/oauth/token", 1, fakeexchange.Fail500)
	status, body = f.refresh(r.url, b.Refresh, f.proof(relayproto.OpRefresh, b.Refresh))
	wantError(t, status, body, http.StatusBadGateway, "provider_unavailable")
	status, body = f.refresh(r.url, b.Refresh, nil)
	wantError(t, status, body, http.StatusUnauthorized, "invalid_proof")
	for range 3 { // the 8th request, then two over the limit
		f.getFrom(r.url + "/nope")
	}

	m := scrape(t, r.metricsURL)
	for _, want := range []string{
		`tokentray_relay_requests_total{endpoint="/metrics"`, // not a route: counted as "other"
		`tokentray_relay_requests_total{endpoint="/v1/authorize",outcome="ok"} 1`,
		`tokentray_relay_requests_total{endpoint="/v1/callback",outcome="ok"} 1`,
		`tokentray_relay_requests_total{endpoint="/v1/redeem",outcome="ok"} 1`,
		`tokentray_relay_requests_total{endpoint="/v1/refresh",outcome="ok"} 1`,
		`tokentray_relay_requests_total{endpoint="/v1/refresh",outcome="provider_unavailable"} 1`,
		`tokentray_relay_requests_total{endpoint="/v1/refresh",outcome="refused"} 1`,
		`tokentray_relay_requests_total{endpoint="other",outcome="refused"} 2`,
		`tokentray_relay_requests_total{endpoint="other",outcome="rate_limited"} 2`,
		`tokentray_relay_rate_limited_total 2`,
		`tokentray_relay_provider_call_seconds_count{call="token",outcome="ok",provider="exchange"} 2`,
		`tokentray_relay_provider_call_seconds_count{call="token",outcome="provider_unavailable",provider="exchange"} 1`,
		`tokentray_relay_provider_call_seconds_bucket{call="token",outcome="ok",provider="exchange",le="+Inf"} 2`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if want == `tokentray_relay_requests_total{endpoint="/metrics"` {
			if strings.Contains(m, want) {
				t.Errorf("metrics label a path no route has: %s", want)
			}
			continue
		}
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, secret := range []string{a.AccessToken, a.Refresh, b.AccessToken, b.Refresh, testClientSecret} {
		if strings.Contains(m, secret) {
			t.Fatal("metrics show a secret")
		}
	}
	resp, body = f.getFrom(r.metricsURL + "/v1/providers")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the metrics listener served /v1/providers: %d %s", resp.StatusCode, body)
	}
}
