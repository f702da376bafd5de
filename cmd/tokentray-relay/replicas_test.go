package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/redistest"
)

// cluster is three real relay processes sharing one seal keys file and one real
// redis-server (with a password, read from a file), in front of one exchange. Every
// replica's public_url is the first one's, where the provider sends the browser.
type cluster struct {
	ex     *countingExchange
	redis  *redistest.Server
	relays []*relayProc
	secret string
}

func newCluster(t *testing.T, providerTimeout string) *cluster {
	t.Helper()
	bin := relayBinary(t)
	rs := redistest.Start(t, "store-password-"+fmt.Sprint(time.Now().UnixNano()))
	c := &cluster{redis: rs, secret: "cluster-client-secret-0123456789"}
	c.ex = newCountingExchange(t, c.secret)
	dir := t.TempDir()
	writeSharedFiles(t, dir, c.secret)
	if err := os.WriteFile(filepath.Join(dir, "redis.pass"), []byte(rs.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := relayConfig(c.ex.url, fmt.Sprintf("provider_timeout = %q\nshared_store = %q\nshared_store_password_file = \"redis.pass\"\n",
		providerTimeout, rs.URL()))
	for i := range 3 {
		public := ""
		if i > 0 {
			public = c.relays[0].url
		}
		c.relays = append(c.relays, startRelayProc(t, bin, dir, fmt.Sprintf("relay-%d", i), public, body))
	}
	c.ex.ex.AddRedirectURI(c.relays[0].url + "/v1/callback")
	return c
}

// refreshBody is a refresh request of blob with a fresh proof.
func (d *device) refreshBody(blob string) map[string]any {
	return map[string]any{"provider": "exchange", "refresh": blob, "proof": d.proof(blob)}
}

// postAt posts body to the relay at base.
func (d *device) postAt(base, path string, body any) (int, map[string]any) {
	d.t.Helper()
	status, out, err := d.postAtErr(base, path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	return status, out
}

func (d *device) postAtErr(base, path string, body any) (int, map[string]any, error) {
	saved := &device{t: d.t, relay: base, priv: d.priv, pub: d.pub, http: d.http}
	return saved.tryPost(path, body)
}

func TestReplicasSpendResultOnce(t *testing.T) {
	c := newCluster(t, "3s")
	d := newDevice(t, c.relays[0].url)
	result, verifier := d.flowResult()
	body := map[string]any{"result": result, "code_verifier": verifier}
	if status, out := d.postAt(c.relays[1].url, "/v1/redeem", body); status != http.StatusOK {
		t.Fatalf("redeem at replica 1 = %d %v", status, out)
	}
	for _, i := range []int{0, 1, 2} {
		status, out := d.postAt(c.relays[i].url, "/v1/redeem", body)
		if status != http.StatusBadRequest || out["error"] != "result_used" {
			t.Errorf("second redeem at replica %d = %d %v, want 400 result_used", i, status, out)
		}
	}
}

func TestReplicasRefuseReplayedProof(t *testing.T) {
	c := newCluster(t, "3s")
	d := newDevice(t, c.relays[0].url)
	blob := d.connect()
	body := d.refreshBody(blob)
	if status, out := d.postAt(c.relays[0].url, "/v1/refresh", body); status != http.StatusOK {
		t.Fatalf("refresh at replica 0 = %d %v", status, out)
	}
	for _, i := range []int{1, 2} {
		status, out := d.postAt(c.relays[i].url, "/v1/refresh", body)
		if status != http.StatusUnauthorized || out["error"] != "replayed_proof" {
			t.Errorf("the same proof at replica %d = %d %v, want 401 replayed_proof", i, status, out)
		}
	}
	if n := c.ex.refreshes.Load(); n != 1 {
		t.Errorf("provider refresh calls = %d, want 1", n)
	}
}

func TestReplicasRetryGetsFirstAnswer(t *testing.T) {
	c := newCluster(t, "3s")
	d := newDevice(t, c.relays[0].url)
	blob := d.connect()
	status, first := d.postAt(c.relays[0].url, "/v1/refresh", d.refreshBody(blob))
	if status != http.StatusOK {
		t.Fatalf("refresh at replica 0 = %d %v", status, first)
	}
	for _, i := range []int{1, 2} {
		status, again := d.postAt(c.relays[i].url, "/v1/refresh", d.refreshBody(blob))
		if status != http.StatusOK || again["access_token"] != first["access_token"] || again["refresh"] != first["refresh"] {
			t.Errorf("retry at replica %d = %d, or another answer", i, status)
		}
	}
	if n := c.ex.refreshes.Load(); n != 1 {
		t.Errorf("provider refresh calls = %d, want 1", n)
	}
	if !c.ex.keyLive(t, first["access_token"].(string)) {
		t.Error("the answered key is not live at the exchange")
	}
}

func TestReplicasConcurrentRefreshOneCall(t *testing.T) {
	c := newCluster(t, "3s")
	d := newDevice(t, c.relays[0].url)
	blob := d.connect()
	// The provider takes 300 ms, so the eight requests meet while its call runs.
	slow := func(*http.Request) bool {
		time.Sleep(300 * time.Millisecond)
		return true
	}
	c.ex.hold.Store(&slow)

	const n = 8
	bodies := make([]map[string]any, n)
	for i := range bodies {
		bodies[i] = d.refreshBody(blob)
	}
	type answer struct {
		status int
		body   map[string]any
		err    error
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			status, body, err := d.postAtErr(c.relays[i%3].url, "/v1/refresh", bodies[i])
			answers[i] = answer{status, body, err}
		})
	}
	wg.Wait()
	for i, a := range answers {
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("request %d at replica %d = %d %v %v", i, i%3, a.status, a.body, a.err)
		}
		if a.body["access_token"] != answers[0].body["access_token"] || a.body["refresh"] != answers[0].body["refresh"] {
			t.Errorf("request %d at replica %d got another answer", i, i%3)
		}
	}
	if got := c.ex.refreshes.Load(); got != 1 {
		t.Errorf("provider refresh calls = %d, want 1", got)
	}
	if !c.ex.keyLive(t, answers[0].body["access_token"].(string)) {
		t.Error("the answered key is not live at the exchange")
	}
}

// TestReplicaKilledDuringProviderCall SIGKILLs the replica whose provider call is in
// flight; the provider drops the call (its client went away before it began). The
// device's retries at another replica get a real answer once the dead replica's lock
// has expired, with a key live at the exchange.
func TestReplicaKilledDuringProviderCall(t *testing.T) {
	c := newCluster(t, "3s")
	d := newDevice(t, c.relays[0].url)
	blob := d.connect()
	entered := make(chan struct{}, 1)
	hold := func(r *http.Request) bool {
		entered <- struct{}{}
		<-r.Context().Done() // held until the relay is gone
		return false
	}
	c.ex.hold.Store(&hold)
	go func() { _, _, _ = d.postAtErr(c.relays[1].url, "/v1/refresh", d.refreshBody(blob)) }()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the refresh never reached the provider")
	}
	c.ex.hold.Store(nil)
	c.relays[1].kill(t)

	var last string
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no answer at replica 2 within 40 s of the kill; last: %s", last)
		}
		status, out := d.postAt(c.relays[2].url, "/v1/refresh", d.refreshBody(blob))
		if status == http.StatusOK {
			if !c.ex.keyLive(t, out["access_token"].(string)) {
				t.Error("the retry's key is not live at the exchange")
			}
			// And the answer is the one every replica now gives.
			status, again := d.postAt(c.relays[0].url, "/v1/refresh", d.refreshBody(blob))
			if status != http.StatusOK || again["access_token"] != out["access_token"] {
				t.Errorf("retry at replica 0 = %d, or another answer", status)
			}
			return
		}
		// While the dead replica's lock holds, the wait ends as a slow provider's.
		if status != http.StatusBadGateway || out["error"] != "provider_unavailable" {
			t.Fatalf("retry at replica 2 = %d %v, want 200 or 502 provider_unavailable", status, out)
		}
		last = fmt.Sprint(status, out["error"])
	}
}

func TestReplicasStoreDownFailsClosed(t *testing.T) {
	c := newCluster(t, "3s")
	d := newDevice(t, c.relays[0].url)
	blob := d.connect()
	result, verifier := d.flowResult()
	c.redis.Stop()

	for i, r := range c.relays {
		status, out := d.postAt(r.url, "/v1/refresh", d.refreshBody(blob))
		if status != http.StatusServiceUnavailable || out["error"] != "store_unavailable" || out["source"] != "relay" {
			t.Errorf("refresh at replica %d with the store down = %d %v, want 503 store_unavailable from the relay", i, status, out)
		}
		status, out = d.postAt(r.url, "/v1/redeem", map[string]any{"result": result, "code_verifier": verifier})
		if status != http.StatusServiceUnavailable || out["error"] != "store_unavailable" {
			t.Errorf("redeem at replica %d with the store down = %d %v, want 503 store_unavailable", i, status, out)
		}
	}
	if n := c.ex.refreshes.Load(); n != 0 {
		t.Errorf("the provider saw %d refresh calls with the store down, want 0", n)
	}
	for i, r := range c.relays {
		if !waitStatus(t, r.url+"/healthz", http.StatusServiceUnavailable) {
			t.Errorf("replica %d /healthz never answered 503 with the store down", i)
		}
	}
}

// waitStatus polls u for up to 10 s until it answers want.
func waitStatus(t *testing.T, u string, want int) bool {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return true
			}
		}
	}
	return false
}

// TestStoreDumpHoldsNoSecret saves Redis to an uncompressed RDB file after connects
// and refreshes through all replicas and looks for every token the provider handed
// out, the client secret and the seal key in it.
func TestStoreDumpHoldsNoSecret(t *testing.T) {
	c := newCluster(t, "3s")
	for i := range 3 {
		d := newDevice(t, c.relays[i].url)
		d.relay = c.relays[0].url
		blob := d.connect()
		status, out := d.postAt(c.relays[i].url, "/v1/refresh", d.refreshBody(blob))
		if status != http.StatusOK {
			t.Fatalf("refresh at replica %d = %d %v", i, status, out)
		}
	}
	dump := c.redis.Dump(t)
	if !bytes.Contains(dump, []byte("tokentray:answer:")) || !bytes.Contains(dump, []byte("tokentray:proof:")) {
		t.Fatal("the dump holds no refresh answer or proof: nothing was stored")
	}
	secrets := append(c.ex.handedOut(), c.secret)
	if len(secrets) < 7 {
		t.Fatalf("only %d tokens recorded", len(secrets))
	}
	keys, err := os.ReadFile(filepath.Join(filepath.Dir(c.relays[0].cmd.Args[2]), "seal.keys"))
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, string(bytes.Fields(keys)[1]))
	for _, s := range secrets {
		if bytes.Contains(dump, []byte(s)) {
			t.Errorf("the Redis dump holds a secret (%d bytes)", len(s))
		}
	}
	for i, r := range c.relays {
		logs := r.logs.String()
		for _, s := range append(secrets, c.redis.Password) {
			if strings.Contains(logs, s) {
				t.Errorf("replica %d's log holds a secret (%d bytes)", i, len(s))
			}
		}
	}
}
