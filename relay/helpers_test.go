package relay

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
	"github.com/tokentray/tokentray/relayproto"
)

const (
	testClientID     = "relay-client-id"
	testClientSecret = "relay-client-secret-0123456789"
	otherSecret      = "other-client-secret-9876543210"
)

// testClock is a settable clock shared by the exchange and the relays.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// gate holds the exchange's token endpoint until released; done, when set, receives
// once the held call has been served.
type gate struct {
	entered chan struct{}
	release chan struct{}
	done    chan struct{}
}

// fixture is a simulated exchange, a loopback listener and a device key; relays are
// started with newRelay.
type fixture struct {
	t        testing.TB
	clock    *testClock
	ex       *fakeexchange.Exchange
	exURL    string
	dir      string
	logs     *syncbuf.Buffer
	priv     ed25519.PrivateKey
	devKey   string
	client   *http.Client
	gate     atomic.Pointer[gate]
	loopback string
	// lastLoopback is the query of the last request the loopback received.
	lastLoopback atomic.Pointer[url.Values]
	// rfcRevokes records the requests to the rfc7009 revoke endpoint.
	rfcRevokes chan *http.Request
	rfcRevoke  string
	// mutate edits the config text before each relay loads it.
	mutate func(string) string
	// lastCallback is the query the provider last sent to the relay's callback.
	lastCallback url.Values
	// refreshCtxs, when set, receives the context of each /v1/refresh request the relays
	// of newRelay serve.
	refreshCtxs chan context.Context
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		t:     t,
		clock: &testClock{t: time.Now().Truncate(time.Second)},
		dir:   t.TempDir(),
		logs:  &syncbuf.Buffer{},
		client: &http.Client{
			// A transport of its own, so serveRelay can close the fixture's idle
			// connections without touching another test's.
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		rfcRevokes: make(chan *http.Request, 10),
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f.priv, f.devKey = priv, base64.RawURLEncoding.EncodeToString(pub)
	f.ex = fakeexchange.New(fakeexchange.Config{ClientID: testClientID, ClientSecret: testClientSecret, Now: f.clock.Now})
	f.ex.SetApproval(fakeexchange.AutoApprove)
	exSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g := f.gate.Load(); g != nil && r.URL.Path == "/oauth/token" {
			g.entered <- struct{}{}
			<-g.release
			if g.done != nil {
				defer func() { g.done <- struct{}{} }()
			}
		}
		f.ex.ServeHTTP(w, r)
	}))
	t.Cleanup(exSrv.Close)
	t.Cleanup(f.ex.Close)
	f.exURL = exSrv.URL
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.lastLoopback.Store(&q)
		_, _ = io.WriteString(w, "done")
	}))
	t.Cleanup(lb.Close)
	f.loopback = lb.URL + "/callback"
	rv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.rfcRevokes <- r
		writeJSON(w, http.StatusOK, struct{}{})
	}))
	t.Cleanup(rv.Close)
	f.rfcRevoke = rv.URL + "/revoke"
	line, _ := newKeyLine(t, "k1")
	f.writeFile("seal.keys", line)
	f.writeFile("exchange.secret", testClientSecret+"\n")
	f.writeFile("other.secret", otherSecret)
	return f
}

func (f *fixture) writeFile(name, text string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(text), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) readFile(name string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) configText(publicURL string) string {
	text := fmt.Sprintf(`
listen = "127.0.0.1:0"
public_url = %q
seal_keys_file = "seal.keys"
provider_timeout = "2s"
rate_per_minute = 100000

[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "%[2]s/oauth/authorize"
token_url = "%[2]s/oauth/token"
revoke_url = "%[2]s/oauth/revoke"
client_id = %[3]q
client_secret_file = "exchange.secret"
token_format = "peatio"
api_base = "%[2]s/api/v2"
me_path = "/members/me"
label = "{{.name}}'s EXchange"
account_field = "sn"
allowed_hosts = ["127.0.0.1"]
[[provider.scope]]
name = "profile"
description = "basic user information"
default = true
required = true
[[provider.scope]]
name = "history"
default = true
[[provider.scope]]
name = "trade"
[[provider.field]]
name = "environment"
kind = "select"
options = ["production", "sandbox"]
default = "production"

[[provider]]
id = "other"
name = "Other"
authorize_url = "%[2]s/oauth/authorize"
token_url = "%[2]s/oauth/token"
revoke_url = %[4]q
revoke_style = "rfc7009"
auth_style = "basic"
client_id = "other-client"
client_secret_file = "other.secret"
token_format = "bearer"
[[provider.scope]]
name = "read"
default = true
`, publicURL, f.exURL, testClientID, f.rfcRevoke)
	if f.mutate != nil {
		text = f.mutate(text)
	}
	return text
}

// newRelayAt builds a relay whose public URL is publicURL, from a config file in the
// fixture's folder, logging into the fixture's buffer.
func (f *fixture) newRelayAt(publicURL string) *Server {
	f.t.Helper()
	path := filepath.Join(f.dir, "relay.toml")
	f.writeFile("relay.toml", f.configText(publicURL))
	cfg, err := LoadConfig(path)
	if err != nil {
		f.t.Fatalf("LoadConfig: %v", err)
	}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(cfg, WithClock(f.clock.Now), WithLogger(log))
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return s
}

// newRelay serves a new relay on a loopback httptest server and registers its callback
// at the exchange.
func (f *fixture) newRelay() (*Server, string) {
	f.t.Helper()
	var h atomic.Pointer[Server]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.refreshCtxs != nil && r.URL.Path == "/v1/refresh" {
			f.refreshCtxs <- r.Context()
		}
		h.Load().ServeHTTP(w, r)
	}))
	f.t.Cleanup(srv.Close)
	s := f.newRelayAt(srv.URL)
	h.Store(s)
	f.ex.AddRedirectURI(srv.URL + "/v1/callback")
	return s, srv.URL
}

// post sends body as JSON and returns the status and body.
func (f *fixture) post(base, path string, body any) (int, []byte) {
	f.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := f.client.Post(base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		f.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func (f *fixture) get(u string) *http.Response {
	f.t.Helper()
	resp, err := f.client.Get(u)
	if err != nil {
		f.t.Fatalf("GET: %v", err)
	}
	return resp
}

// wantError checks an error answer's status and code and returns it decoded.
func wantError(t *testing.T, status int, body []byte, wantStatus int, wantCode string) *apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if status != wantStatus || e.Code != wantCode {
		t.Fatalf("answer = %d %s (%s), want %d %s", status, e.Code, e.Description, wantStatus, wantCode)
	}
	if e.Description == "" || (e.Source != relayproto.SourceRelay && e.Source != relayproto.SourceProvider) {
		t.Errorf("error %+v lacks a description or a source", e)
	}
	return &e
}

// device is one flow's device-side secrets.
type device struct {
	verifier, state string
}

func (f *fixture) authorizeRequest(d *device) *relayproto.AuthorizeRequest {
	sum := sha256.Sum256([]byte(d.verifier))
	return &relayproto.AuthorizeRequest{
		Provider: "exchange", Loopback: f.loopback, State: d.state,
		CodeChallenge:       base64.RawURLEncoding.EncodeToString(sum[:]),
		CodeChallengeMethod: "S256", DeviceKey: f.devKey,
	}
}

func newDevice() *device {
	return &device{verifier: randomString(32), state: randomString(16)}
}

// authorize asks the relay for an authorize URL.
func (f *fixture) authorize(relayURL string, req *relayproto.AuthorizeRequest) string {
	f.t.Helper()
	status, body := f.post(relayURL, "/v1/authorize", req)
	if status != http.StatusOK {
		f.t.Fatalf("authorize = %d %s", status, body)
	}
	var out struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.AuthorizeURL == "" {
		f.t.Fatalf("authorize body %s: %v", body, err)
	}
	return out.AuthorizeURL
}

// walk follows the browser: provider → callbackBase's /v1/callback → loopback, and returns
// the query the loopback received. callbackBase "" follows the provider's Location.
func (f *fixture) walk(authorizeURL, callbackBase string) url.Values {
	f.t.Helper()
	resp := f.get(authorizeURL)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		f.t.Fatalf("provider authorize = %d", resp.StatusCode)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.lastCallback = cb.Query()
	if callbackBase != "" {
		base, _ := url.Parse(callbackBase)
		cb.Scheme, cb.Host = base.Scheme, base.Host
	}
	resp = f.get(cb.String())
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		f.t.Fatalf("relay callback = %d", resp.StatusCode)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		f.t.Errorf("callback redirect headers = %v", resp.Header)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, f.loopback+"?") {
		f.t.Fatalf("callback Location %.40q… does not go to the loopback", loc)
	}
	resp = f.get(loc)
	resp.Body.Close()
	return *f.lastLoopback.Load()
}

// redeem trades a result for tokens.
func (f *fixture) redeem(relayURL, result, verifier string) (int, []byte) {
	return f.post(relayURL, "/v1/redeem", relayproto.RedeemRequest{Result: result, CodeVerifier: verifier})
}

// connect runs the whole brokered flow against one relay and returns the answer.
func (f *fixture) connect(relayURL string) *relayproto.TokenAnswer {
	f.t.Helper()
	d := newDevice()
	q := f.walk(f.authorize(relayURL, f.authorizeRequest(d)), "")
	if q.Get("state") != d.state || q.Get("result") == "" {
		f.t.Fatalf("loopback got error %q (%s)", q.Get("error"), q.Get("error_description"))
	}
	status, body := f.redeem(relayURL, q.Get("result"), d.verifier)
	if status != http.StatusOK {
		f.t.Fatalf("redeem = %d %s", status, body)
	}
	return decodeAnswer(f.t, body)
}

func decodeAnswer(t testing.TB, body []byte) *relayproto.TokenAnswer {
	t.Helper()
	var a relayproto.TokenAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	return &a
}

// proof signs op over blob with the device key at the fixture's time.
func (f *fixture) proof(op, blob string) *relayproto.Proof {
	return signProof(f.t, f.priv, op, blob, f.clock.Now())
}

func (f *fixture) refresh(relayURL, blob string, p *relayproto.Proof) (int, []byte) {
	return f.post(relayURL, "/v1/refresh", relayproto.RefreshRequest{Provider: "exchange", Refresh: blob, Proof: p})
}

// me calls the exchange's me-API with a Peatio-signed request and returns the HTTP
// status and the APIv2 error code (0 on success).
func (f *fixture) me(accessToken string) (int, int) {
	f.t.Helper()
	ak, sk, ok := strings.Cut(accessToken, ":")
	if !ok {
		f.t.Fatalf("access token is not AK:SK")
	}
	params := url.Values{"access_key": {ak}, "tonce": {strconv.FormatInt(f.clock.Now().UnixMilli(), 10)}}
	params.Set("signature", fakeexchange.Sign(sk, fakeexchange.Payload("GET", "/api/v2/members/me", params)))
	resp := f.get(f.exURL + "/api/v2/members/me?" + params.Encode())
	defer resp.Body.Close()
	var e fakeexchange.APIError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Err.Code
}

func jsonBody(t testing.TB, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}
