package relay

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokentray/tokentray/relayproto"
)

// Request outcomes, the "outcome" label of tokentray_relay_requests_total. They are a
// fixed set so that no client can grow the label space.
const (
	outcomeOK                  = "ok"
	outcomeRefused             = "refused"              // the relay's own 4xx
	outcomeRateLimited         = "rate_limited"         // 429
	outcomeProviderRefused     = "provider_refused"     // the provider's 4xx, passed through
	outcomeProviderUnavailable = "provider_unavailable" // 502
	outcomeProviderBusy        = "provider_busy"        // 503: provider_calls_per_second spent
	outcomeStoreUnavailable    = "store_unavailable"    // 503: the shared store failed
	outcomeInternal            = "internal"             // 500
)

// metrics are the relay's Prometheus metrics, in a registry of their own (never the
// global one, so two Servers in one process do not collide).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec   // endpoint, outcome
	providerCall *prometheus.HistogramVec // provider, call, outcome
	rateLimited  prometheus.Counter
	throttled    *prometheus.CounterVec   // provider
	storeCall    *prometheus.HistogramVec // op
	storeErrors  *prometheus.CounterVec   // op
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokentray_relay_requests_total",
			Help: "Requests to the public listener by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		providerCall: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokentray_relay_provider_call_seconds",
			Help:    "Latency of the relay's calls to a provider's token and revoke endpoints.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"provider", "call", "outcome"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokentray_relay_rate_limited_total",
			Help: "Requests refused with 429 by the per-client rate limit.",
		}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokentray_relay_provider_throttled_total",
			Help: "Provider calls refused because provider_calls_per_second was spent for longer than provider_timeout.",
		}, []string{"provider"}),
	}
	m.storeCall = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tokentray_relay_store_call_seconds",
		Help:    "Latency of the relay's calls to its shared store, by operation; the count is the number of calls.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"op"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokentray_relay_store_errors_total",
		Help: "Shared store calls that failed or timed out, by operation.",
	}, []string{"op"})
	m.reg.MustRegister(m.requests, m.providerCall, m.rateLimited, m.throttled, m.storeCall, m.storeErrors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observeProviderCall records one provider call that took d.
func (m *metrics) observeProviderCall(provider, call, outcome string, d time.Duration) {
	m.providerCall.WithLabelValues(provider, call, outcome).Observe(d.Seconds())
}

// outcomeOf sorts an error answer into its outcome label.
func outcomeOf(e *apiError) string {
	switch {
	case e == nil:
		return outcomeOK
	case e.Status == http.StatusTooManyRequests:
		return outcomeRateLimited
	case e.Code == "store_unavailable" && e.Source == relayproto.SourceRelay:
		return outcomeStoreUnavailable
	case e.Status == http.StatusServiceUnavailable:
		return outcomeProviderBusy
	case e.Status == http.StatusBadGateway:
		return outcomeProviderUnavailable
	case e.Source == relayproto.SourceProvider:
		return outcomeProviderRefused
	case e.Status >= 500:
		return outcomeInternal
	default:
		return outcomeRefused
	}
}

// outcomeOfStatus is the outcome of an answer that did not go through writeError.
func outcomeOfStatus(status int) string {
	switch {
	case status >= 500:
		return outcomeInternal
	case status >= 400:
		return outcomeRefused
	default:
		return outcomeOK
	}
}

// MetricsHandler returns the handler of GET /metrics in the Prometheus text format. Run
// serves it on metrics_listen only; it must never be mounted on the public listener.
func (s *Server) MetricsHandler() http.Handler {
	metricsOnly := http.NewServeMux()
	metricsOnly.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return metricsOnly
}
