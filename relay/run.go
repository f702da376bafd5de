package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds the graceful shutdown; provider calls in flight get this long.
const shutdownTimeout = 20 * time.Second

// Run serves the relay on cfg.Listen (TLS when cfg.TLSCert is set) until ctx ends, then
// shuts down gracefully. It returns nil after a clean shutdown.
func Run(ctx context.Context, cfg *Config, opts ...Option) error {
	s, err := New(cfg, opts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("relay listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.ProviderTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.cfg.MetricsListen != "" {
		s.log.Warn("metrics_listen is set but this relay does not serve /metrics yet", "metrics_listen", s.cfg.MetricsListen)
	}
	s.log.Info("relay listening", "addr", ln.Addr().String(), "public_url", s.cfg.PublicURL,
		"tls", s.cfg.TLSCert != "", "providers", len(s.order))
	served := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			served <- srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("relay serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("relay shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("relay shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("relay serve: %w", err)
	}
	return nil
}
