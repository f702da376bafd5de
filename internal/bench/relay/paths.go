package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/relayproto"
)

const clientID = "bench-client"

// exchange is the simulated exchange served on loopback in this process.
type exchange struct {
	ex     *fakeexchange.Exchange
	srv    *http.Server
	url    string
	secret string
}

func startExchange() (*exchange, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("exchange listen: %w", err)
	}
	secret := randomText(24)
	ex := fakeexchange.New(fakeexchange.Config{ClientID: clientID, ClientSecret: secret})
	ex.SetApproval(fakeexchange.AutoApprove)
	srv := &http.Server{Handler: ex, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &exchange{ex: ex, srv: srv, url: "http://" + ln.Addr().String(), secret: secret}, nil
}

func (e *exchange) close() {
	e.ex.Close()
	_ = e.srv.Close()
}

// newClient returns a client that keeps one idle connection per benchmark connection.
func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// buildRelay builds ./cmd/tokentray-relay as deploy/Dockerfile does.
func buildRelay(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "tokentray-relay")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-o", bin, "github.com/tokentray/tokentray/cmd/tokentray-relay")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the relay: %w\n%s", err, out)
	}
	return bin, nil
}

// relayProcess is the relay binary running as a child.
type relayProcess struct {
	cmd      *exec.Cmd
	url      string
	exited   chan error
	stopOnce sync.Once
	stopErr  error
}

// startRelay writes dir/NAME.toml for the exchange and starts bin on a free loopback
// port; its logs go to dir/NAME.log. store, when not "", is its shared_store URL.
func startRelay(ctx context.Context, bin, dir, name string, ex *exchange, store string) (*relayProcess, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("relay port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	relayURL := "http://" + addr
	ex.ex.AddRedirectURI(relayURL + "/v1/callback")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	extra := ""
	if store != "" {
		extra = fmt.Sprintf("shared_store = %q\n", store)
	}
	files := map[string]string{
		name + ".keys":  "k1 " + base64.StdEncoding.EncodeToString(key) + "\n",
		"client.secret": ex.secret,
		name + ".toml": extra + fmt.Sprintf(`listen = %q
public_url = %q
metrics_listen = "127.0.0.1:0"
seal_keys_file = %[5]q
rate_per_minute = 10000000
provider_calls_per_second = 10000
provider_timeout = "15s"
[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "%[3]s/oauth/authorize"
token_url = "%[3]s/oauth/token"
client_id = %[4]q
client_secret_file = "client.secret"
token_format = "peatio"
[[provider.scope]]
name = "profile"
default = true
`, addr, relayURL, ex.url, clientID, name+".keys"),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, fmt.Errorf("relay files: %w", err)
		}
	}
	logFile, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("relay log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "--config", filepath.Join(dir, name+".toml"))
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the relay: %w", err)
	}
	rp := &relayProcess{cmd: cmd, url: relayURL, exited: make(chan error, 1)}
	go func() { rp.exited <- cmd.Wait() }()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-rp.exited:
			return nil, fmt.Errorf("the relay exited at start: %v (log in %s)", err, logFile.Name())
		case <-ctx.Done():
			_ = rp.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := http.Get(relayURL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return rp, nil
			}
		}
		if time.Now().After(deadline) {
			_ = rp.stop()
			return nil, errors.New("the relay did not become healthy in 15 s")
		}
	}
}

// stop sends SIGTERM and waits for the relay to exit; it may be called again.
func (rp *relayProcess) stop() error {
	rp.stopOnce.Do(func() {
		_ = rp.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case rp.stopErr = <-rp.exited:
		case <-time.After(30 * time.Second):
			_ = rp.cmd.Process.Kill()
			rp.stopErr = errors.Join(errors.New("the relay ignored SIGTERM for 30 s"), <-rp.exited)
		}
	})
	return rp.stopErr
}

// directPath refreshes with the client secret at the exchange itself, as a relay-less
// confidential client would.
type directPath struct {
	ex     *exchange
	client *http.Client
	tokens []string
}

func newDirectPath(ex *exchange, conns int) *directPath {
	p := &directPath{ex: ex, client: newClient(conns)}
	for range conns {
		p.tokens = append(p.tokens, ex.ex.Issue("profile").RefreshToken)
	}
	return p
}

func (p *directPath) name() string { return "direct refresh_token at the exchange" }
func (p *directPath) conns() int   { return len(p.tokens) }

func (p *directPath) refresh(ctx context.Context, i int) error {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {p.tokens[i]},
		"client_id": {clientID}, "client_secret": {p.ex.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.ex.url+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("direct refresh: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok fakeexchange.Token
	if err := doJSON(p.client, req, &tok); err != nil {
		return fmt.Errorf("direct refresh: %w", err)
	}
	p.tokens[i] = tok.RefreshToken
	return nil
}

// relayPath refreshes through the relay: POST /v1/refresh with a sealed blob and a
// fresh device proof (docs/relay.md §3).
type relayPath struct {
	label  string
	url    string
	client *http.Client
	priv   ed25519.PrivateKey
	pub    string
	blobs  []string
}

// newRelayPath connects conns accounts through the whole brokered flow.
func newRelayPath(rp *relayProcess, label string, conns int) (*relayPath, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("device key: %w", err)
	}
	p := &relayPath{label: label, url: rp.url, client: newClient(conns), priv: priv, pub: base64.RawURLEncoding.EncodeToString(pub)}
	for range conns {
		blob, err := p.connect()
		if err != nil {
			return nil, fmt.Errorf("connect through the relay: %w", err)
		}
		p.blobs = append(p.blobs, blob)
	}
	return p, nil
}

func (p *relayPath) name() string { return p.label }
func (p *relayPath) conns() int   { return len(p.blobs) }

// connect runs authorize → exchange → relay callback → redeem; the loopback is never
// served, the relay's redirect to it is read instead.
func (p *relayPath) connect() (string, error) {
	verifier := randomText(32)
	sum := sha256.Sum256([]byte(verifier))
	var auth relayproto.AuthorizeAnswer
	if err := p.post(context.Background(), "/v1/authorize", relayproto.AuthorizeRequest{
		Provider: "exchange", Loopback: "http://127.0.0.1:9/cb", State: randomText(16),
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), CodeChallengeMethod: "S256",
		DeviceKey: p.pub,
	}, &auth); err != nil {
		return "", err
	}
	callback, err := p.location(auth.AuthorizeURL)
	if err != nil {
		return "", err
	}
	loopback, err := p.location(callback)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(loopback)
	if err != nil || u.Query().Get("result") == "" {
		return "", fmt.Errorf("the callback answered an error: %s", u.Query().Get("error"))
	}
	var ans relayproto.TokenAnswer
	err = p.post(context.Background(), "/v1/redeem", relayproto.RedeemRequest{Result: u.Query().Get("result"), CodeVerifier: verifier}, &ans)
	return ans.Refresh, err
}

func (p *relayPath) refresh(ctx context.Context, i int) error {
	blob := p.blobs[i]
	proof := &relayproto.Proof{TS: json.Number(strconv.FormatInt(time.Now().Unix(), 10)), Nonce: randomText(16)}
	proof.Sig = base64.RawURLEncoding.EncodeToString(ed25519.Sign(p.priv, relayproto.ProofMessage(relayproto.OpRefresh, blob, string(proof.TS), proof.Nonce)))
	var ans relayproto.TokenAnswer
	if err := p.post(ctx, "/v1/refresh", relayproto.RefreshRequest{Provider: "exchange", Refresh: blob, Proof: proof}, &ans); err != nil {
		return err
	}
	if ans.Refresh == "" || ans.AccessToken == "" {
		return errors.New("relay refresh: no keys in the answer")
	}
	p.blobs[i] = ans.Refresh
	return nil
}

func (p *relayPath) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("relay %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("relay %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := doJSON(p.client, req, out); err != nil {
		return fmt.Errorf("relay %s: %w", path, err)
	}
	return nil
}

// location GETs u and returns where it redirects.
func (p *relayPath) location(u string) (string, error) {
	resp, err := p.client.Get(u)
	if err != nil {
		return "", fmt.Errorf("follow redirect: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("follow redirect: HTTP %d, want 302", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

// doJSON sends req and decodes a 200 answer into out; other answers are errors that
// carry the status and the error code only, never the body's secrets.
func doJSON(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error any `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("HTTP %d %v", resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
