package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// timeouts are the public listener's limits on slow clients and the shutdown's grace.
type timeouts struct {
	readHeader time.Duration // the request line and headers
	read       time.Duration // the whole request, body included
	write      time.Duration // from the end of the headers to the end of the answer
	idle       time.Duration // a kept-alive connection between requests
	shutdown   time.Duration // in-flight requests after the shutdown begins
}

// defaultTimeouts leaves a request time for one provider call, including the wait for
// provider_calls_per_second, which provider_timeout already bounds, and the shutdown
// time for a provider call that outlived its request (providerCallCap).
func defaultTimeouts(providerTimeout, callCap time.Duration) timeouts {
	return timeouts{
		readHeader: 10 * time.Second,
		read:       30 * time.Second,
		write:      providerTimeout + 30*time.Second,
		idle:       2 * time.Minute,
		shutdown:   callCap + 5*time.Second,
	}
}

// maxHeaderBytes bounds a request's headers, the callback's query included.
const maxHeaderBytes = 64 << 10

// Run serves the relay on cfg.Listen (TLS when cfg.TLSCert is set) and /metrics on
// cfg.MetricsListen (when set) until ctx ends, then shuts down gracefully. It returns nil
// after a clean shutdown.
func Run(ctx context.Context, cfg *Config, opts ...Option) error {
	s, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("relay listen: %w", err)
	}
	var metricsLn net.Listener
	if s.cfg.MetricsListen != "" {
		if metricsLn, err = net.Listen("tcp", s.cfg.MetricsListen); err != nil {
			ln.Close()
			return fmt.Errorf("relay metrics listen: %w", err)
		}
	}
	return s.Serve(ctx, ln, metricsLn)
}

// Serve serves the public handler on ln (TLS when the config has tls_cert) and, when
// metricsLn is not nil, MetricsHandler on metricsLn, until ctx ends or a listener fails.
// Then it stops accepting and gives requests in flight and provider calls that
// outlived their request providerCallCap + 5s to finish. It closes both listeners and returns nil after a
// clean shutdown.
func (s *Server) Serve(ctx context.Context, ln, metricsLn net.Listener) error {
	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)
	srv := &http.Server{
		Handler:           s,
		TLSConfig:         s.tls,
		ReadHeaderTimeout: s.timeouts.readHeader,
		ReadTimeout:       s.timeouts.read,
		WriteTimeout:      s.timeouts.write,
		IdleTimeout:       s.timeouts.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errLog,
	}
	servers := []*http.Server{srv}
	served := make(chan error, 2)
	go func() {
		if s.tls != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	if metricsLn != nil {
		msrv := &http.Server{
			Handler:           s.MetricsHandler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          errLog,
		}
		servers = append(servers, msrv)
		go func() { served <- msrv.Serve(metricsLn) }()
		s.log.Info("metrics listening", "addr", metricsLn.Addr().String())
	}
	s.log.Info("relay listening", "addr", ln.Addr().String(), "public_url", s.cfg.PublicURL,
		"tls", s.tls != nil, "behind_proxy", s.cfg.BehindProxy, "providers", len(s.order))
	if s.store != nil {
		defer s.store.close()
		if s.store.healthy(ctx) {
			s.log.Info("shared store reachable", "store", redactedStore(s.cfg.SharedStore))
		} else {
			s.log.Warn("shared store unreachable; /healthz answers 503 until it is", "store", redactedStore(s.cfg.SharedStore))
		}
	}

	var failed error
	select {
	case err := <-served:
		failed = fmt.Errorf("relay serve: %w", err)
		s.log.Error("relay listener failed; shutting down", "err", err)
	case <-ctx.Done():
		s.log.Info("relay shutting down", "grace", s.timeouts.shutdown)
	}
	s.stopOnce.Do(func() { close(s.stopping) })
	sctx, cancel := context.WithTimeout(context.Background(), s.timeouts.shutdown)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("relay shutdown: %w", err))
		}
	}
	if err := waitGroupCtx(sctx, &s.calls); err != nil {
		errs = append(errs, fmt.Errorf("relay shutdown: provider calls still running: %w", err))
	}
	// Each server's Serve returns once its Shutdown began; one may have returned above.
	for range len(servers) - boolToInt(failed != nil) {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("relay serve: %w", err))
		}
	}
	if failed != nil {
		errs = append([]error{failed}, errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	s.log.Info("relay stopped")
	return nil
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// waitGroupCtx waits for wg or the end of ctx, whichever comes first.
func waitGroupCtx(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
