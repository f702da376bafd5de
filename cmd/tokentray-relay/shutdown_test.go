package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
)

// slowExchange is the simulated exchange behind a handler that, while armed, holds a
// refresh_token call until released.
type slowExchange struct {
	ex      *fakeexchange.Exchange
	url     string
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// releaseHeld lets a held call go on; it may be called more than once.
func (se *slowExchange) releaseHeld() { se.once.Do(func() { close(se.release) }) }

func newSlowExchange(t *testing.T, secret string) *slowExchange {
	t.Helper()
	se := &slowExchange{
		ex:      fakeexchange.New(fakeexchange.Config{ClientID: "cid", ClientSecret: secret}),
		entered: make(chan struct{}, 1),
		release: make(chan struct{}),
	}
	se.ex.SetApproval(fakeexchange.AutoApprove)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" && se.armed.Load() {
			_ = r.ParseForm()
			if r.PostForm.Get("grant_type") == "refresh_token" {
				se.entered <- struct{}{}
				<-se.release
			}
		}
		se.ex.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(se.ex.Close)
	t.Cleanup(se.releaseHeld) // first: srv.Close waits for held calls
	se.url = srv.URL
	return se
}

// freeAddr returns a loopback address nothing listens on (for a moment).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// device is the device side of one brokered connection, as docs/relay.md §2–§3 spell it.
type device struct {
	t     *testing.T
	relay string
	priv  ed25519.PrivateKey
	pub   string
	http  *http.Client
}

func newDevice(t *testing.T, relayURL string) *device {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &device{t: t, relay: relayURL, priv: priv, pub: base64.RawURLEncoding.EncodeToString(pub),
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (d *device) post(path string, body any) (int, map[string]any) {
	d.t.Helper()
	status, out, err := d.tryPost(path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	return status, out
}

// tryPost is post for goroutines other than the test's.
func (d *device) tryPost(path string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	resp, err := d.http.Post(d.relay+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, nil
}

// location GETs u and returns the redirect target.
func (d *device) location(u string) *url.URL {
	d.t.Helper()
	resp, err := d.http.Get(u)
	if err != nil {
		d.t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		d.t.Fatalf("GET = %d, want a redirect", resp.StatusCode)
	}
	return loc
}

// connect runs authorize → exchange → relay callback → redeem and returns the sealed
// refresh blob. The loopback is never served: the test reads the relay's redirect.
func (d *device) connect() string {
	d.t.Helper()
	result, verifier := d.flowResult()
	status, out := d.post("/v1/redeem", map[string]any{"result": result, "code_verifier": verifier})
	if status != http.StatusOK {
		d.t.Fatalf("redeem = %d %v", status, out)
	}
	return out["refresh"].(string)
}

// flowResult runs authorize → exchange → relay callback and returns the sealed result
// and the PKCE verifier that redeems it.
func (d *device) flowResult() (result, verifier string) {
	d.t.Helper()
	verifier = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	sum := sha256.Sum256([]byte(verifier))
	status, out := d.post("/v1/authorize", map[string]any{
		"provider": "exchange", "loopback": "http://127.0.0.1:9/cb", "state": "device-state",
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
		"device_key": d.pub,
	})
	if status != http.StatusOK {
		d.t.Fatalf("authorize = %d %v", status, out)
	}
	callback := d.location(out["authorize_url"].(string))
	loopback := d.location(callback.String()).Query()
	if loopback.Get("result") == "" {
		d.t.Fatalf("callback error %q: %s", loopback.Get("error"), loopback.Get("error_description"))
	}
	return loopback.Get("result"), verifier
}

// proof signs a refresh of blob now (docs/relay.md §3).
func (d *device) proof(blob string) map[string]any {
	ts := time.Now().Unix()
	nonce := base64.RawURLEncoding.EncodeToString(randomBytes(16))
	sum := sha256.Sum256([]byte(blob))
	msg := "tokentray-proof|refresh|" + hex.EncodeToString(sum[:]) + "|" + strconv.FormatInt(ts, 10) + "|" + nonce
	sig := ed25519.Sign(d.priv, []byte(msg))
	return map[string]any{"sig": base64.RawURLEncoding.EncodeToString(sig), "ts": ts, "nonce": nonce}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// TestSIGTERMFinishesCall starts the real binary, holds a refresh at the provider, sends
// SIGTERM, and checks the refresh still completes and the process exits 0.
func TestSIGTERMFinishesCall(t *testing.T) {
	bin := relayBinary(t)
	const secret = "relay-test-client-secret-0123"
	se := newSlowExchange(t, secret)
	addr := freeAddr(t)
	relayURL := "http://" + addr
	se.ex.AddRedirectURI(relayURL + "/v1/callback")
	dir := t.TempDir()
	var keyLine bytes.Buffer
	if code := run(t.Context(), []string{"gen-key"}, &keyLine, io.Discard); code != 0 {
		t.Fatal("gen-key failed")
	}
	files := map[string]string{
		"seal.keys":       keyLine.String(),
		"exchange.secret": secret,
		"relay.toml": fmt.Sprintf(`
listen = %q
public_url = %q
metrics_listen = "127.0.0.1:0"
seal_keys_file = "seal.keys"
provider_timeout = "20s"
[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "%[3]s/oauth/authorize"
token_url = "%[3]s/oauth/token"
client_id = "cid"
client_secret_file = "exchange.secret"
token_format = "peatio"
[[provider.scope]]
name = "profile"
default = true
`, addr, relayURL, se.url),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs syncbuf.Buffer
	cmd := exec.Command(bin, "--config", filepath.Join(dir, "relay.toml"))
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	waitHealthy(t, relayURL, exited, &logs)

	d := newDevice(t, relayURL)
	blob := d.connect()
	se.armed.Store(true)
	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		status, body, err := d.tryPost("/v1/refresh", map[string]any{"provider": "exchange", "refresh": blob, "proof": d.proof(blob)})
		answered <- answer{status, body, err}
	}()
	select {
	case <-se.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the refresh never reached the exchange")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The relay stops accepting while the call is held at the exchange.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "relay shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown after SIGTERM; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(relayURL + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("a new request was served after SIGTERM")
	}
	// No wait to see whether the relay exits early: an exit with the call in
	// flight fails the answer below.
	select {
	case err := <-exited:
		t.Fatalf("the relay exited (%v) with a call in flight", err)
	default:
	}
	se.releaseHeld()

	a := <-answered
	if a.err != nil {
		t.Fatalf("refresh during shutdown: %v", a.err)
	}
	if a.status != http.StatusOK || a.body["access_token"] == nil || a.body["refresh"] == nil {
		t.Fatalf("refresh during shutdown = %d %v, want 200 with new keys", a.status, a.body["error"])
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("relay exit: %v; logs:\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the relay did not exit after its last call")
	}
	checkJSONLogs(t, logs.String(), secret, blob)
}

func waitHealthy(t *testing.T, relayURL string, exited chan error, logs *syncbuf.Buffer) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the relay exited at start: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(relayURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("the relay never became healthy; logs:\n%s", logs.String())
}

// checkJSONLogs checks every log line is a JSON object and none holds a secret.
func checkJSONLogs(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	lines := 0
	for sc.Scan() {
		lines++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["msg"] == nil || m["level"] == nil {
			t.Errorf("log line %d is not a slog JSON record: %.80q", lines, sc.Text())
		}
	}
	if lines == 0 {
		t.Error("the relay logged nothing")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Error("the logs hold a secret")
		}
	}
	if !strings.Contains(logs, `"msg":"relay stopped"`) {
		t.Error(`the logs lack "relay stopped"`)
	}
}
