package localapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
)

// relayFront stands between the agent and the devstack's relay: it passes
// calls through, or (hang) holds them without a byte of answer, or (down)
// refuses them by closing.
type relayFront struct {
	srv  *httptest.Server
	hang atomic.Bool
	down atomic.Bool
	stop chan struct{} // closed at cleanup: releases hung calls
}

func newRelayFront(t *testing.T, relayURL string) *relayFront {
	u, err := url.Parse(relayURL)
	if err != nil {
		t.Fatal(err)
	}
	f := &relayFront{stop: make(chan struct{})}
	proxy := httputil.NewSingleHostReverseProxy(u)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		if f.hang.Load() {
			select {
			case <-r.Context().Done():
			case <-f.stop:
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(f.stop); f.srv.Close() })
	return f
}

// TestRelayNotAnsweringIsRelayUnreachable: a relay that hangs, or is down,
// makes refresh and connect answer relay_unreachable (503, CLI exit 1)
// within the agent's relay timeout (2 s here; each call below allows 20 s,
// far less than the minute a refresh used to wait), never provider_error or
// "unknown provider" (docs/socket-api.md).
func TestRelayNotAnsweringIsRelayUnreachable(t *testing.T) {
	stack, err := devstack.Start(devstack.Options{Dir: t.TempDir(), Approval: fakeexchange.AutoApprove})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	front := newRelayFront(t, stack.RelayURL)
	w, err := devworld.Start(context.Background(), devworld.Options{
		RunningStack: stack,
		Agent:        agentd.Options{RelayURL: front.srv.URL, RelayTimeout: 2 * time.Second, Open: devstack.Browser, Version: "test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	client := w.Client
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := client.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}

	// within calls f with 20 s and wants ErrRelayUnreachable.
	within := func(what string, f func(context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := f(ctx)
		if !errors.Is(err, localclient.ErrRelayUnreachable) {
			t.Errorf("%s = %v, want relay_unreachable", what, err)
		}
		var le *localclient.Error
		if errors.As(err, &le) && le.Status != 0 && le.Status != http.StatusServiceUnavailable { // 0: inside the connect stream
			t.Errorf("%s: HTTP %d, want 503", what, le.Status)
		}
	}

	front.hang.Store(true)
	within("refresh with the relay hung", func(ctx context.Context) error {
		_, err := client.Refresh(ctx, conn.ID, nil)
		return err
	})
	within("connect with the relay hung", func(ctx context.Context) error {
		_, err := client.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, nil)
		return err
	})
	within("connect to a provider not in the cache, relay hung", func(ctx context.Context) error {
		_, err := client.Connect(ctx, localclient.ConnectRequest{Provider: "added-later"}, nil)
		return err
	})

	front.hang.Store(false)
	front.down.Store(true)
	within("connect to a provider not in the cache, relay down", func(ctx context.Context) error {
		_, err := client.Connect(ctx, localclient.ConnectRequest{Provider: "added-later"}, nil)
		return err
	})
	within("refresh with the relay down", func(ctx context.Context) error {
		_, err := client.Refresh(ctx, conn.ID, nil)
		return err
	})
	front.down.Store(false)

	// A provider id the agent does not know makes it fetch the relay's list
	// again before it refuses; then the answer is not_found.
	before := stack.RelayCalls("/v1/providers")
	_, err = client.Connect(ctx, localclient.ConnectRequest{Provider: "added-later"}, nil)
	if !errors.Is(err, localclient.ErrNotFound) {
		t.Errorf("connect to a provider the relay does not know = %v, want not_found", err)
	}
	if after := stack.RelayCalls("/v1/providers"); after != before+1 {
		t.Errorf("the relay's list was fetched %d times for an unknown provider, want once", after-before)
	}
	// The connection is still there and serves its key.
	if _, err := client.Token(ctx, conn.ID, 0); err != nil {
		t.Errorf("Token after the relay came back: %v", err)
	}
}
