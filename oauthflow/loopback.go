package oauthflow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultTimeout is how long a flow waits for the browser when its Timeout is 0.
const DefaultTimeout = 5 * time.Minute

// Opener opens url in the user's browser. It should return once the
// browser was started, not when it exits.
type Opener func(ctx context.Context, url string) error

// newState returns 32 random bytes, base64url without padding.
func newState() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// loopbackFlow is one run of the loopback listener.
type loopbackFlow struct {
	mode    flowMode
	state   string
	timeout time.Duration
	open    Opener
	onURL   func(string)
	// start returns the authorize URL for the redirect URI.
	start func(ctx context.Context, redirect string) (string, error)
	// finish turns the accepted callback into a token.
	finish func(ctx context.Context, cb callback) (*Token, error)
}

// outcome is how a flow ended in the handler.
type outcome struct {
	tok *Token
	err error
}

// run binds 127.0.0.1 on an ephemeral port, serves the callback until one
// valid callback was handled, the timeout or ctx ends, and closes the
// listener before returning. No goroutine outlives it.
func (f *loopbackFlow) run(ctx context.Context) (*Token, error) {
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, f.timeout, ErrTimeout)
	defer cancel()

	// RFC 8252 §7.3 and §8.3: the loopback IP literal, never "localhost",
	// never all interfaces.
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loopback listen: %w", err)
	}
	host := ln.Addr().String()
	redirect := "http://" + host + CallbackPath

	done := make(chan outcome, 1)
	var taken atomic.Bool
	srv := &http.Server{
		Handler:           f.handler(ctx, host, &taken, done),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer scancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
		<-served
	}()

	authURL, err := f.start(ctx, redirect)
	if err != nil {
		return nil, f.ctxErr(ctx, err)
	}
	if f.onURL != nil {
		f.onURL(authURL)
	}
	if f.open != nil {
		// A browser that does not start is not fatal: the URL went to
		// onURL, and the user can open it by hand.
		if err := f.open(ctx, authURL); err != nil {
			slog.Warn("oauthflow: could not open the browser; open the authorize URL by hand", "err", err)
		}
	}
	select {
	case o := <-done:
		return o.tok, o.err
	case <-ctx.Done():
		// A callback may have been handled in the same instant.
		select {
		case o := <-done:
			return o.tok, o.err
		default:
		}
		return nil, f.ctxErr(ctx, ctx.Err())
	}
}

// ctxErr reports ErrTimeout for the flow's own timeout, the context's
// error for a cancel, else err.
func (f *loopbackFlow) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		return fmt.Errorf("waited %s: %w", f.timeout, ErrTimeout)
	}
	return ctx.Err()
}

// handler serves the callback: Host first (DNS rebinding), then path,
// method and state; one valid callback ends the flow.
func (f *loopbackFlow) handler(ctx context.Context, host string, taken *atomic.Bool, done chan<- outcome) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Host != host:
			writePage(w, http.StatusBadRequest, pageWrongHost)
			return
		case r.URL.Path != CallbackPath:
			writePage(w, http.StatusNotFound, pageNotFound)
			return
		case r.Method != http.MethodGet:
			w.Header().Set("Allow", http.MethodGet)
			writePage(w, http.StatusMethodNotAllowed, page{Title: "Method not allowed", Message: "Only GET is served here."})
			return
		}
		cb, err := parseCallback(r.URL.Query(), f.state, f.mode)
		if errors.Is(err, errWrongState) {
			slog.Info("oauthflow: loopback callback without this flow's state; still waiting")
			writePage(w, http.StatusBadRequest, pageWrongState)
			return
		}
		if !taken.CompareAndSwap(false, true) {
			writePage(w, http.StatusConflict, pageTaken)
			return
		}
		var o outcome
		if err != nil {
			o.err = err
		} else {
			o.tok, o.err = f.finish(ctx, cb)
			if o.err != nil {
				o.err = f.ctxErr(ctx, o.err)
			}
		}
		if o.err != nil {
			writePage(w, http.StatusOK, errorPage(o.err))
		} else {
			writePage(w, http.StatusOK, pageSuccess)
		}
		done <- o
	})
}
