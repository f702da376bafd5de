package relayclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRelayClientTimeout: a relay that does not answer within Timeout is
// ErrRelayUnreachable (and a deadline); a caller that gives up first gets
// its own cancellation, not a relay fault.
func TestRelayClientTimeout(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 4)
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hung.Close()
	defer close(release)
	c := &Client{BaseURL: hung.URL, Timeout: 200 * time.Millisecond}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.Providers(ctx)
	if !errors.Is(err, ErrRelayUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Providers(hung relay) = %v, want ErrRelayUnreachable and a deadline", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the caller's 20 s ran out: Timeout did not bound the call")
	}

	<-arrived
	c.Timeout = time.Minute
	gone, stop := context.WithCancel(context.Background())
	go func() { <-arrived; stop() }() // the caller gives up while the relay hangs
	_, err = c.Providers(gone)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrRelayUnreachable) {
		t.Errorf("Providers(cancelled by the caller) = %v, want context.Canceled only", err)
	}
}
