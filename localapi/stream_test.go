package localapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
)

// gatedBrowser follows an authorize URL only once the test releases it, so a
// test can see the URL line while the flow still waits for the user.
type gatedBrowser struct {
	release chan struct{}
}

func newGatedBrowser() *gatedBrowser { return &gatedBrowser{release: make(chan struct{})} }

func (b *gatedBrowser) open(ctx context.Context, u string) error {
	go func() {
		select {
		case <-b.release:
			devstack.Browse(context.Background(), u)
		case <-ctx.Done(): // the flow ended without the user
		}
	}()
	return nil
}

// urlGate is a browser that follows each URL only once the test allows that
// very URL: which flow gets the user does not depend on scheduling.
type urlGate struct {
	mu    sync.Mutex // guards gates
	gates map[string]chan struct{}
}

func (g *urlGate) gate(u string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gates == nil {
		g.gates = make(map[string]chan struct{})
	}
	if g.gates[u] == nil {
		g.gates[u] = make(chan struct{})
	}
	return g.gates[u]
}

func (g *urlGate) allow(u string) { close(g.gate(u)) }

func (g *urlGate) open(ctx context.Context, u string) error {
	ch := g.gate(u)
	go func() {
		select {
		case <-ch:
			devstack.Browse(context.Background(), u)
		case <-ctx.Done():
		}
	}()
	return nil
}

// startConnect posts /v1/connect and returns the open stream.
func startConnect(t *testing.T, e *env, ctx context.Context, body string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://tokentray/v1/connect", strings.NewReader(body))
	resp, err := e.rawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, bufio.NewReader(resp.Body)
}

func readLine(t *testing.T, br *bufio.Reader) localclient.ConnectLine {
	t.Helper()
	b, err := br.ReadBytes('\n')
	if err != nil {
		t.Fatalf("read a stream line: %v (got %q)", err, b)
	}
	var l localclient.ConnectLine
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("stream line %q: %v", b, err)
	}
	return l
}

func TestConnectStreamSendsTheURLFirst(t *testing.T) {
	b := newGatedBrowser()
	e := newEnv(t, envOptions{browser: b.open})
	resp, br := startConnect(t, e, t.Context(), `{"provider":"exchange","scopes":["profile","trade"]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("connect = %d %q, want 200 application/x-ndjson", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	first := readLine(t, br)
	if !strings.HasPrefix(first.AuthorizeURL, e.stack.ExchangeURL+"/oauth/authorize?") || first.Connection != nil || first.Error != nil {
		t.Fatalf("first line = %+v, want only the authorize URL", first)
	}
	// The browser has not moved: the flow cannot have ended yet.
	if list, _ := e.client.Connections(t.Context()); len(list) != 0 {
		t.Fatalf("a connection exists before the user approved: %+v", list)
	}
	close(b.release)
	last := readLine(t, br)
	if last.Connection == nil || last.Connection.State != localclient.StateConnected || last.AuthorizeURL != "" ||
		strings.Join(last.Connection.ScopesGranted, ",") != "profile,trade" {
		t.Fatalf("last line = %+v, want the connection", last)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the stream goes on after the connection line")
	}
}

func TestClientConnectGetsTheURLBeforeTheResult(t *testing.T) {
	b := newGatedBrowser()
	e := newEnv(t, envOptions{browser: b.open})
	var seen string
	conn, err := e.client.Connect(t.Context(), localclient.ConnectRequest{Provider: "exchange"}, func(u string) {
		seen = u
		close(b.release) // the user clicks only now
	})
	if err != nil || seen == "" || conn.State != localclient.StateConnected {
		t.Fatalf("Connect = %+v, %v; url %q", conn, err, seen)
	}
}

func TestConnectStreamEndsWithTheProvidersRefusal(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.stack.Exchange.SetApproval(fakeexchange.AutoDeny)
	_, br := startConnect(t, e, t.Context(), `{"provider":"exchange"}`)
	if first := readLine(t, br); first.AuthorizeURL == "" {
		t.Fatalf("first line = %+v, want the URL", first)
	}
	last := readLine(t, br)
	if last.Error == nil || last.Error.Code != localclient.CodeProviderError || !strings.Contains(last.Error.Message, "access_denied") {
		t.Fatalf("last line = %+v, want the provider's access_denied", last)
	}
	_, err := e.client.Connect(t.Context(), localclient.ConnectRequest{Provider: "exchange"}, nil)
	if !errors.Is(err, localclient.ErrProviderError) {
		t.Fatalf("Client.Connect on a refusal = %v, want ErrProviderError", err)
	}
	if list, _ := e.client.Connections(t.Context()); len(list) != 0 {
		t.Fatalf("a refused flow left connections: %+v", list)
	}
}

func TestConnectUnknownProvider(t *testing.T) {
	e := newEnv(t, envOptions{})
	before := e.stack.RelayCalls("/v1/providers")
	_, err := e.client.Connect(t.Context(), localclient.ConnectRequest{Provider: "nope"}, nil)
	var ae *localclient.Error
	if !errors.Is(err, localclient.ErrNotFound) || !errors.As(err, &ae) || ae.Status != 404 || !strings.Contains(ae.Message, "nope") {
		t.Fatalf("Connect(nope) = %#v, want 404 not_found naming it", err)
	}
	if e.stack.RelayCalls("/v1/providers") == before {
		t.Fatal("the agent refused an unknown provider without asking the relay's list again")
	}
}

func TestHangUpMidConnect(t *testing.T) {
	var g urlGate // the user never gets to the first consent page
	e := newEnv(t, envOptions{browser: g.open})
	ctx, cancel := context.WithCancel(t.Context())
	_, br := startConnect(t, e, ctx, `{"provider":"exchange"}`)
	if first := readLine(t, br); first.AuthorizeURL == "" {
		t.Fatalf("first line = %+v", first)
	}
	cancel() // the CLI is killed while the user looks at the consent page
	e.healthy("")
	conn, err := e.client.Connect(t.Context(), localclient.ConnectRequest{Provider: "exchange"}, g.allow)
	if err != nil || conn.State != localclient.StateConnected {
		t.Fatalf("a new flow after the hang-up = %+v, %v", conn, err)
	}
	e.healthy(conn.ID)
}

// TestHangUpMidTokenWithARefreshInFlight: a script asks for a fresher key,
// the refresh hangs at the exchange, the script gives up. The agent keeps
// serving, and the refresh ends and is retried without the script.
func TestHangUpMidTokenWithARefreshInFlight(t *testing.T) {
	clk := newClock()
	e := newEnv(t, envOptions{clock: clk})
	conn := e.connect()
	old := e.token(conn.ID)
	clk.Advance(2*time.Hour + time.Minute) // 1h59m left: min_valid=3h asks for a refresh
	e.stack.Exchange.FailNext("/oauth/token", 1, fakeexchange.FailHang)

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	_, err := e.client.Token(ctx, conn.ID, 3*time.Hour)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Token while the refresh hangs = %v, want the client's deadline", err)
	}
	got, err := e.client.Connection(t.Context(), conn.ID)
	if err != nil || got.State != localclient.StateRefreshing {
		t.Fatalf("during the refresh: %+v, %v; want state refreshing", got, err)
	}
	// Keys are still served: the old one has 1h59m left.
	if tok := e.token(conn.ID); tok.AccessKey != old.AccessKey {
		t.Fatal("the key changed while its refresh hangs")
	}
	e.stack.Exchange.Close() // the exchange lets the request go, unanswered
	// The relay answers 502: the exchange may have rotated the keys, so the
	// connection stays refreshing until the agent's own retry, due within
	// seconds of the fake clock, resolves it.
	waitFor(t, func() bool {
		clk.Advance(100 * time.Millisecond)
		c, err := e.client.Connection(t.Context(), conn.ID)
		return err == nil && c.State == localclient.StateConnected
	})
	fresh, err := e.client.Token(t.Context(), conn.ID, 3*time.Hour)
	if err != nil || fresh.Generation != old.Generation+1 || fresh.AccessKey == old.AccessKey {
		t.Fatalf("Token(min_valid=3h) after the hang = generation %d, %v; want a new key", fresh.Generation, err)
	}
	e.remember(fresh.SecretKey)
}

func TestHangUpMidRequest(t *testing.T) {
	e := newEnv(t, envOptions{})
	conn := e.connect()
	tests := []struct{ name, send string }{
		{"half a request line", "GET /v1/conn"},
		{"headers without their end", "GET /v1/status HTTP/1.1\r\nHost: x\r\n"},
		{"half a body", "PATCH /v1/connections/" + conn.ID + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"label\":\"Hal"},
		{"half a sign body", "POST /v1/connections/" + conn.ID + "/sign HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"method\""},
		{"nothing", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("unix", e.sock)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(tt.send))
			c.Close()
			e.healthy(conn.ID)
		})
	}
	got, err := e.client.Connection(t.Context(), conn.ID)
	if err != nil || got.Label != conn.Label {
		t.Fatalf("after the hang-ups: %+v, %v; want label %q", got, err, conn.Label)
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
