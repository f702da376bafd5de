package main

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/internal/syncbuf"
)

// relayProc is the real relay binary running as a child of the test.
type relayProc struct {
	url    string
	cmd    *exec.Cmd
	logs   *syncbuf.Buffer
	exited chan error
}

// relayConfig is the part of a relay config every replica shares: the seal keys file,
// the client secret and one provider at exURL. extra lines go before the provider.
func relayConfig(exURL, extra string) string {
	return fmt.Sprintf(`
metrics_listen = ""
seal_keys_file = "seal.keys"
rate_per_minute = 100000
%s
[[provider]]
id = "exchange"
name = "EXchange"
authorize_url = "%[2]s/oauth/authorize"
token_url = "%[2]s/oauth/token"
revoke_url = "%[2]s/oauth/revoke"
client_id = "cid"
client_secret_file = "exchange.secret"
token_format = "peatio"
[[provider.scope]]
name = "profile"
default = true
`, extra, exURL)
}

// writeSharedFiles writes a fresh seal keys line and the client secret into dir.
func writeSharedFiles(t *testing.T, dir, secret string) {
	t.Helper()
	var keyLine bytes.Buffer
	if code := run(t.Context(), []string{"gen-key"}, &keyLine, &bytes.Buffer{}); code != 0 {
		t.Fatal("gen-key failed")
	}
	for name, text := range map[string]string{"seal.keys": keyLine.String(), "exchange.secret": secret} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// startRelayProc writes dir/NAME.toml (listen on a free port, public_url, then body)
// and starts the relay binary on it; it waits until /healthz answers 200. publicURL ""
// is the process's own URL. The process is killed at the test's end if still running.
func startRelayProc(t *testing.T, bin, dir, name, publicURL, body string) *relayProc {
	t.Helper()
	addr := freeAddr(t)
	p := &relayProc{url: "http://" + addr, logs: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	if publicURL == "" {
		publicURL = p.url
	}
	path := filepath.Join(dir, name+".toml")
	text := fmt.Sprintf("listen = %q\npublic_url = %q\n", addr, publicURL) + body
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, "--config", path)
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, p.logs.String())
		}
	})
	waitHealthy(t, p.url, p.exited, p.logs)
	return p
}

// kill sends SIGKILL and waits for the process to end.
func (p *relayProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// countingExchange is the simulated exchange behind a handler that counts
// refresh_token grants, records every token it hands out and, while hold is set, runs
// hold before serving one: hold returns false to drop the call unserved, as a
// provider does whose client went away before it began.
type countingExchange struct {
	ex        *fakeexchange.Exchange
	url       string
	refreshes atomic.Int32
	hold      atomic.Pointer[func(*http.Request) bool]
	served    chan struct{} // receives after each refresh_token grant was served

	mu     sync.Mutex
	tokens []string // guarded by mu: every access and refresh token handed out
}

func newCountingExchange(t *testing.T, secret string) *countingExchange {
	t.Helper()
	ce := &countingExchange{
		ex:     fakeexchange.New(fakeexchange.Config{ClientID: "cid", ClientSecret: secret}),
		served: make(chan struct{}, 64),
	}
	ce.ex.SetApproval(fakeexchange.AutoApprove)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" {
			ce.ex.ServeHTTP(w, r)
			return
		}
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") == "refresh_token" {
			ce.refreshes.Add(1)
			if h := ce.hold.Load(); h != nil && !(*h)(r) {
				return
			}
			defer func() { ce.served <- struct{}{} }()
		}
		rec := httptest.NewRecorder()
		ce.ex.ServeHTTP(rec, r)
		var tr struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &tr) == nil {
			ce.mu.Lock()
			ak, sk, _ := strings.Cut(tr.AccessToken, ":")
			for _, tok := range []string{ak, sk, tr.RefreshToken} {
				if tok != "" {
					ce.tokens = append(ce.tokens, tok)
				}
			}
			ce.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(ce.ex.Close)
	ce.url = srv.URL
	return ce
}

// handedOut returns every access key, secret key and refresh token served so far.
func (ce *countingExchange) handedOut() []string {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	return append([]string(nil), ce.tokens...)
}

// keyLive reports whether accessToken ("AK:SK") opens the exchange's me-API.
func (ce *countingExchange) keyLive(t *testing.T, accessToken string) bool {
	t.Helper()
	ak, sk, ok := strings.Cut(accessToken, ":")
	if !ok {
		t.Fatalf("access token is not AK:SK")
	}
	params := url.Values{"access_key": {ak}, "tonce": {strconv.FormatInt(time.Now().UnixMilli(), 10)}}
	params.Set("signature", fakeexchange.Sign(sk, fakeexchange.Payload("GET", "/api/v2/members/me", params)))
	resp, err := http.Get(ce.url + "/api/v2/members/me?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode == http.StatusOK
}

// refresh posts a refresh of blob with a fresh proof to the relay at base.
func (d *device) refreshAt(base, blob string) (int, map[string]any) {
	d.t.Helper()
	saved := d.relay
	d.relay = base
	defer func() { d.relay = saved }()
	return d.post("/v1/refresh", map[string]any{"provider": "exchange", "refresh": blob, "proof": d.proof(blob)})
}
