package relay

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokentray/tokentray/relayproto"
)

// maxRequestBody bounds a JSON request body; larger ones answer 413.
const maxRequestBody = 64 << 10

// Server is the relay's public HTTP handler (docs/relay.md §2). Several Servers sharing
// one seal keys file serve each other's tickets, results and refresh blobs; the proof,
// spent-result and refresh-answer memories are per Server. It is safe for concurrent use.
type Server struct {
	cfg       *Config
	now       func() time.Time
	log       *slog.Logger
	sealer    *sealer
	providers map[string]*providerClient
	order     []*providerClient // config order
	proofs    *expiringSet      // proofs seen while valid
	spent     *expiringSet      // results redeemed, until they expire
	refreshes *refreshCache
	calls     sync.WaitGroup // provider calls running on their own context
	store     *sharedStore   // nil: proofs, spent blobs, answers and limits in memory
	stopping  chan struct{}  // closed when Serve begins to shut down
	stopOnce  sync.Once
	routes    map[string]route
	limiters  *ipLimiters // per client, rate_per_minute
	metrics   *metrics
	tls       *tls.Config // nil: plain HTTP
	timeouts  timeouts
}

type route struct {
	method string
	serve  func(http.ResponseWriter, *http.Request)
}

// Option changes a Server built by New.
type Option func(*Server)

// WithClock sets the Server's clock; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithLogger sets the Server's logger; the default is slog.Default(). The relay logs
// request ids, routes, statuses and outcomes, never a secret.
func WithLogger(log *slog.Logger) Option {
	return func(s *Server) { s.log = log }
}

// New validates a copy of cfg (filling defaults LoadConfig would), reads its seal keys
// and client secrets, and returns the handler for the public listener. It does not
// listen.
func New(cfg *Config, opts ...Option) (*Server, error) {
	if cfg == nil {
		return nil, errors.New("relay: nil config")
	}
	c := *cfg
	c.Providers = append([]Provider(nil), cfg.Providers...)
	cfg = &c
	cfg.applyDefaults("")
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("relay config: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		now:       time.Now,
		log:       slog.Default(),
		providers: map[string]*providerClient{},
		proofs:    newExpiringSet(),
		spent:     newExpiringSet(),
		stopping:  make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.limiters = newIPLimiters(cfg.RatePerMinute, maxLimiters)
	s.metrics = newMetrics()
	keep := cfg.RefreshAnswerWindow
	if cfg.SharedStore != "" {
		st, err := newSharedStore(cfg, s.metrics, s.log)
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		s.store = st
		keep = 0 // the store keeps the answers
	}
	s.refreshes = newRefreshCache(s.now, keep, &s.calls)
	s.timeouts = defaultTimeouts(cfg.ProviderTimeout, cfg.providerCallCap())
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("relay: tls_cert and tls_key: %w", err)
		}
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	sl, err := readSealKeys(cfg.SealKeysFile, s.log)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	s.sealer = sl
	httpClient := &http.Client{
		// The relay's own deadline per call is its context's: providerCallCap.
		Timeout: cfg.providerCallCap(),
		// Token endpoints answer directly; a redirect would drop the POST body.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for i := range cfg.Providers {
		p := &cfg.Providers[i]
		secret, err := p.clientSecret(s.log)
		if err != nil {
			return nil, fmt.Errorf("relay: provider %q: %w", p.ID, err)
		}
		c := &providerClient{
			cfg: p, secret: secret, http: httpClient, log: s.log, metrics: s.metrics, store: s.store,
			limiter: rate.NewLimiter(rate.Limit(cfg.ProviderCallsPerSecond), cfg.ProviderCallsPerSecond),
			maxWait: cfg.ProviderTimeout / 2,
		}
		s.providers[p.ID] = c
		s.order = append(s.order, c)
	}
	s.routes = map[string]route{
		"/healthz":      {http.MethodGet, s.serveHealthz},
		"/v1/providers": {http.MethodGet, s.serveProviders},
		"/v1/authorize": {http.MethodPost, s.serveAuthorize},
		"/v1/callback":  {http.MethodGet, s.serveCallback},
		"/v1/redeem":    {http.MethodPost, s.serveRedeem},
		"/v1/refresh":   {http.MethodPost, s.serveRefresh},
		"/v1/revoke":    {http.MethodPost, s.serveRevoke},
	}
	return s, nil
}

// callbackURL is the one redirect URI registered at every provider.
func (s *Server) callbackURL() string {
	return s.cfg.PublicURL + "/v1/callback"
}

// ServeHTTP rate-limits, routes and counts a request and logs its id, route, status and
// duration. Query strings are never logged: the callback's carries the code and the
// ticket. Every route but /healthz counts against the client's rate_per_minute.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	id := newRequestID()
	w.Header().Set("X-Request-Id", id)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	rt, ok := s.routes[r.URL.Path]
	endpoint := r.URL.Path
	if !ok {
		endpoint = "other"
	}
	allowed, wait := true, time.Duration(0)
	if endpoint != "/healthz" {
		allowed, wait = s.allowClient(r.Context(), clientKey(r, s.cfg.BehindProxy), start)
	}
	switch {
	case !allowed:
		s.metrics.rateLimited.Inc()
		secs := retryAfter(wait)
		e := relayErr(http.StatusTooManyRequests, "rate_limited",
			"too many requests from this address; retry after "+strconv.Itoa(secs)+" s")
		e.RetryAfter = secs
		writeError(sw, e)
	case !ok:
		writeError(sw, relayErr(http.StatusNotFound, "not_found", "no such endpoint"))
	case r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead):
		sw.Header().Set("Allow", rt.method)
		writeError(sw, relayErr(http.StatusMethodNotAllowed, "method_not_allowed", "use "+rt.method))
	default:
		rt.serve(sw, r)
	}
	outcome := sw.outcome
	if outcome == "" {
		outcome = outcomeOfStatus(sw.status)
	}
	s.metrics.requests.WithLabelValues(endpoint, outcome).Inc()
	s.log.Info("request", "id", id, "method", r.Method, "path", endpoint,
		"status", sw.status, "outcome", outcome, "duration", s.now().Sub(start))
}

// statusWriter remembers the status and the outcome of an answer for the log and the
// metrics.
type statusWriter struct {
	http.ResponseWriter
	status  int
	outcome string // set by noteOutcome; "" means judge by status
}

// noteOutcome records e's outcome when w is the relay's statusWriter.
func noteOutcome(w http.ResponseWriter, e *apiError) {
	if sw, ok := w.(*statusWriter); ok {
		sw.outcome = outcomeOf(e)
	}
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeBody reads one JSON object of at most maxRequestBody bytes into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) *apiError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return relayErr(http.StatusRequestEntityTooLarge, "request_too_large", "the request body is larger than 64 KiB")
		}
		return badRequest("invalid_request", "the request body is not the expected JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("invalid_request", "the request body has data after the JSON object")
	}
	return nil
}

// serveHealthz answers 200 "ok", or 503 while a configured shared store does not
// answer, so that a load balancer drains this replica.
func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.store != nil && !s.store.healthy(r.Context()) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "shared store unreachable")
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func (s *Server) serveProviders(w http.ResponseWriter, _ *http.Request) {
	list := make([]relayproto.Provider, 0, len(s.order))
	for _, c := range s.order {
		list = append(list, c.cfg.Public())
	}
	writeJSON(w, http.StatusOK, relayproto.ProvidersAnswer{Providers: list})
}
