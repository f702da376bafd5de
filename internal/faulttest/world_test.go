package faulttest

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/peatio"
)

// bins holds the binaries TestMain built.
var bins struct {
	dir, agent, cli, relay string
}

// TestMain builds `tokentray-app` (the nogui build, no cgo, as servers run
// it), the small `tokentray` CLI beside it and `tokentray-relay` once for
// all tests.
func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() {
			return m.Run() // every test skips itself
		}
		dir, err := os.MkdirTemp("", "tokentray-faulttest")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bins.dir = dir
		bins.agent, bins.cli, bins.relay = filepath.Join(dir, "tokentray-app"), filepath.Join(dir, "tokentray"), filepath.Join(dir, "tokentray-relay")
		for _, b := range []struct{ out, pkg string }{
			{bins.agent, "github.com/tokentray/tokentray"},
			{bins.cli, "github.com/tokentray/tokentray/cmd/tokentray"},
			{bins.relay, "github.com/tokentray/tokentray/cmd/tokentray-relay"},
		} {
			cmd := exec.Command("go", "build", "-tags", "nogui", "-o", b.out, b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b.pkg, err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// world is the simulated exchange (in this process, behind a gate the test
// controls), a `tokentray-relay` process and a `tokentray agent` process
// with a passphrase vault that survives its restarts.
type world struct {
	t        *testing.T
	exchange *fakeexchange.Exchange
	gate     *gate
	exURL    string
	relayURL string
	relay    *exec.Cmd
	home     string
	sock     string
	agent    *exec.Cmd
	agentLog *syncbuf.Buffer // every run's stderr
	starts   int
	client   *localclient.Client
	config   string // more lines of config.toml
}

// worldOptions change the world.
type worldOptions struct {
	providerTimeout time.Duration // the relay's provider_timeout; default 15s
	config          string        // more lines of the agent's config.toml
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("drives the real binaries")
	}
	if o.providerTimeout == 0 {
		o.providerTimeout = 15 * time.Second
	}
	w := &world{t: t, home: t.TempDir(), agentLog: &syncbuf.Buffer{}, config: o.config}
	sockDir, err := os.MkdirTemp("", "tt") // socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	w.sock = filepath.Join(sockDir, "agent.sock")
	w.client = localclient.NewClient(w.sock)

	relayAddr := freeAddr(t)
	w.relayURL = "http://" + relayAddr
	w.exchange = fakeexchange.New(fakeexchange.Config{
		ClientSecret: "faulttest-secret",
		RedirectURIs: []string{w.relayURL + "/v1/callback"},
	})
	w.exchange.SetApproval(fakeexchange.AutoApprove)
	w.gate = &gate{next: w.exchange}
	ex := httptest.NewServer(w.gate)
	t.Cleanup(func() {
		w.gate.open()
		w.exchange.Close()
		ex.Close()
	})
	w.exURL = ex.URL
	w.startRelay(relayAddr, o.providerTimeout)
	w.startAgent()
	t.Cleanup(func() {
		w.stopAgent()
		if t.Failed() {
			t.Logf("agent log (last 6000 bytes):\n%s", tail(w.agentLog.String(), 6000))
		}
	})
	return w
}

// startRelay writes the relay's config for the simulated exchange and runs
// the relay until the test ends.
func (w *world) startRelay(addr string, providerTimeout time.Duration) {
	t := w.t
	dir := t.TempDir()
	key, err := exec.Command(bins.relay, "gen-key").Output()
	if err != nil {
		t.Fatalf("tokentray-relay gen-key: %v", err)
	}
	cfg := fmt.Sprintf(`listen = %q
public_url = %q
metrics_listen = "127.0.0.1:0"
seal_keys_file = "seal.keys"
rate_per_minute = 100000
provider_calls_per_second = 1000
provider_timeout = %q

[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "%[4]s/oauth/authorize"
token_url = "%[4]s/oauth/token"
revoke_url = "%[4]s/oauth/revoke"
revoke_style = "doorkeeper"
client_id = "tokentray-demo"
client_secret_file = "exchange.secret"
token_format = "peatio"
api_base = "%[4]s/api/v2"
me_path = "/members/me"
label = "{{.name}}'s EXchange"
account_field = "sn"
allowed_hosts = ["127.0.0.1"]

[[provider.scope]]
name = "profile"
description = "basic user information"
default = true
required = true
`, addr, w.relayURL, providerTimeout.String(), w.exURL)
	for name, text := range map[string]string{"relay.toml": cfg, "seal.keys": string(key), "exchange.secret": "faulttest-secret\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var log bytes.Buffer
	w.relay = exec.Command(bins.relay, "--config", filepath.Join(dir, "relay.toml"))
	w.relay.Stdout, w.relay.Stderr = &log, &log
	if err := w.relay.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.relay.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { w.relay.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			w.relay.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("relay log (last 4000 bytes):\n%s", tail(log.String(), 4000))
		}
	})
	waitFor(t, 20*time.Second, "the relay's /healthz", func() bool {
		resp, err := http.Get(w.relayURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// startAgent runs `tokentray agent` and waits until it answers on its socket.
func (w *world) startAgent() {
	t := w.t
	if w.starts == 0 {
		if err := os.WriteFile(filepath.Join(w.home, "config.toml"), []byte("vault = \"passphrase\"\n"+w.config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w.starts++
	fmt.Fprintf(w.agentLog, "--- agent start %d\n", w.starts)
	cmd := exec.Command(bins.agent, "agent")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.home,
		"TOKENTRAY_HOME=" + w.home,
		"TOKENTRAY_SOCK=" + w.sock,
		"TOKENTRAY_RELAY=" + w.relayURL,
		"BROWSER=true", // the test follows the authorize URL itself
	}
	cmd.Stdin = strings.NewReader("fault-test passphrase\n")
	cmd.Stdout, cmd.Stderr = w.agentLog, w.agentLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.agent = cmd
	waitFor(t, 20*time.Second, "the agent's socket", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := w.client.Status(ctx)
		return err == nil
	})
}

// killAgent SIGKILLs the agent and reaps it.
func (w *world) killAgent() {
	w.agent.Process.Signal(syscall.SIGKILL)
	w.agent.Wait()
	fmt.Fprintf(w.agentLog, "--- SIGKILL\n")
	os.Remove(w.sock) // a killed agent leaves its socket behind
}

// stopAgent stops the agent as a user would (SIGTERM), killing it after 10 s.
func (w *world) stopAgent() {
	if w.agent == nil || w.agent.ProcessState != nil {
		return
	}
	w.agent.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { w.agent.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		w.agent.Process.Kill()
		<-done
	}
}

// connect connects the exchange's account through the agent's socket,
// following the authorize URL as the browser would.
func (w *world) connect() *localclient.Connection {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := w.client.Connect(ctx, localclient.ConnectRequest{Provider: "exchange"}, func(u string) { devstack.Browser(ctx, u) })
	if err != nil {
		w.t.Fatalf("connect: %v", err)
	}
	return c
}

// meStatus calls /members/me at the exchange with the agent's current key
// for conn and returns the HTTP status: 200 means the key is live there.
func (w *world) meStatus(ak, sk string) int {
	w.t.Helper()
	q, err := (&peatio.Signer{}).Sign("GET", "/api/v2/members/me", url.Values{}, ak, sk, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.Get(w.exURL + "/api/v2/members/me?" + q.Query)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// liveKey asks the agent for conn's key and reports whether the exchange
// accepts it, with the key's generation.
func (w *world) liveKey(id string) (bool, int64) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	k, err := w.client.Token(ctx, id, 0)
	if err != nil {
		w.t.Logf("token %s: %v", id, err)
		return false, 0
	}
	return w.meStatus(k.AccessKey, k.SecretKey) == http.StatusOK, k.Generation
}

// gate sits in front of the simulated exchange and lets a test catch the
// refresh and revoke calls the relay makes.
type gate struct {
	next http.Handler

	mu      sync.Mutex // guards the fields below
	refresh func(w http.ResponseWriter, r *http.Request, next http.Handler)
	revoke  func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

// onRefresh handles the next refresh_token grants with f (nil: pass).
func (g *gate) onRefresh(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refresh = f
}

// onRevoke handles the next revocations with f (nil: pass).
func (g *gate) onRevoke(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.revoke = f
}

// open passes everything from now on.
func (g *gate) open() {
	g.onRefresh(nil)
	g.onRevoke(nil)
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	refresh, revoke := g.refresh, g.revoke
	g.mu.Unlock()
	switch {
	case r.URL.Path == "/oauth/revoke" && revoke != nil:
		revoke(w, r, g.next)
		return
	case r.URL.Path == "/oauth/token" && refresh != nil:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") == "refresh_token" {
			refresh(w, r, g.next)
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

// rotateThenHold is a refresh handler: the exchange rotates the keys at
// once; rotated is then told, and the answer is held until release closes
// or hold passes, as a provider or a network slow to answer would.
func rotateThenHold(rotated chan<- struct{}, release <-chan struct{}, hold time.Duration) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rotated != nil {
			select {
			case rotated <- struct{}{}:
			default:
			}
		}
		select {
		case <-release:
		case <-time.After(hold):
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
