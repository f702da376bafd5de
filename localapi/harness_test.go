package localapi_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeclock"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
	"github.com/tokentray/tokentray/localclient"
)

// env is one test's world: the simulated exchange and a real relay
// (devstack), and a real agent with a memory vault serving a real socket.
type env struct {
	tb     testing.TB
	stack  *devstack.Stack
	daemon *agentd.Daemon
	sock   string
	client *localclient.Client
	clock  *fakeclock.Clock // nil unless asked for
	logs   *syncbuf.Buffer

	mu      sync.Mutex // guards secrets
	secrets []string   // keys the test has seen; the log must hold none of them
}

type envOptions struct {
	// clock drives the exchange, the relay and the agent when set.
	clock *fakeclock.Clock
	// browser opens authorize URLs; default: follows them at once.
	browser func(ctx context.Context, url string) error
}

// shortDir returns a fresh folder with a short path: a socket path must fit
// in 108 bytes, which t.TempDir's long names can exceed.
func shortDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "lapi")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// newEnv starts the simulated world: devstack and an agent on a socket in a
// fresh folder, whose browser approves at once unless o.browser says
// otherwise.
func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	var now func() time.Time
	var clock agent.Clock
	if o.clock != nil {
		now, clock = o.clock.Now, o.clock
	}
	if o.browser == nil {
		o.browser = devstack.Browser
	}
	e := &env{tb: tb, clock: o.clock, logs: &syncbuf.Buffer{}}
	w, err := devworld.Start(context.Background(), devworld.Options{
		Stack: devstack.Options{Now: now, Approval: fakeexchange.AutoApprove},
		Agent: agentd.Options{
			Open: o.browser, Clock: clock, Version: "test",
			Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.stack, e.daemon, e.sock, e.client = w.Stack, w.Agent, w.Socket, w.Client
	tb.Cleanup(func() {
		w.Close()
		e.checkLogsHoldNoSecret()
	})
	return e
}

// connect makes a connection to the simulated exchange through the socket.
func (e *env) connect() localclient.Connection {
	e.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := e.client.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID}, nil)
	if err != nil {
		e.tb.Fatalf("Connect: %v", err)
	}
	return *c
}

// token reads a key and remembers its secrets for the log check.
func (e *env) token(id string) *localclient.Token {
	e.tb.Helper()
	tok, err := e.client.Token(context.Background(), id, 0)
	if err != nil {
		e.tb.Fatalf("Token(%q): %v", id, err)
	}
	e.remember(tok.SecretKey, tok.AccessKey+":"+tok.SecretKey)
	return tok
}

func (e *env) remember(secrets ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= 8 {
			e.secrets = append(e.secrets, s)
		}
	}
}

// checkLogsHoldNoSecret fails the test when a key the test saw is in the log.
func (e *env) checkLogsHoldNoSecret() {
	logs := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.secrets {
		if strings.Contains(logs, s) {
			e.tb.Errorf("the agent's log holds a secret key (%d bytes)", len(s))
		}
	}
}

// rawClient is a plain HTTP client over the socket, for requests the typed
// client cannot make (bad bodies, wrong methods, extra headers).
func (e *env) rawClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", e.sock)
		},
	}}
}

// raw sends one request and returns the status, headers and body.
func (e *env) raw(method, path string, body io.Reader, header http.Header) (int, http.Header, []byte) {
	e.tb.Helper()
	req, err := http.NewRequest(method, "http://tokentray"+path, body)
	if err != nil {
		e.tb.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.rawClient().Do(req)
	if err != nil {
		e.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.tb.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// healthy fails the test unless the agent still answers and serves a key.
func (e *env) healthy(id string) {
	e.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.client.Status(ctx); err != nil {
		e.tb.Fatalf("Status after the hang-up: %v", err)
	}
	if id != "" {
		e.token(id)
	}
}

// newClock returns a clock the test moves by hand, starting now.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Now().UTC().Truncate(time.Second)) }
