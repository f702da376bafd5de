package relay

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/relayproto"
)

func TestRefreshRotates(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	first := f.connect(relayURL)

	status, body := f.refresh(relayURL, first.Refresh, f.proof(relayproto.OpRefresh, first.Refresh))
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %s", status, body)
	}
	second := decodeAnswer(t, body)
	if second.AccessToken == first.AccessToken || second.Refresh == first.Refresh || second.Refresh == "" {
		t.Fatal("refresh did not rotate the key and the sealed refresh")
	}
	if second.TokenType != "urn:peatio:api:v2:token" || second.Scope != "profile history" {
		t.Errorf("answer type %q scope %q", second.TokenType, second.Scope)
	}
	if _, code := f.me(first.AccessToken); code != fakeexchange.CodeUnknownKey {
		t.Errorf("old key at the exchange: code %d, want %d", code, fakeexchange.CodeUnknownKey)
	}
	if status, code := f.me(second.AccessToken); status != http.StatusOK {
		t.Errorf("new key at the exchange = %d (code %d)", status, code)
	}
	status, body = f.refresh(relayURL, second.Refresh, f.proof(relayproto.OpRefresh, second.Refresh))
	if status != http.StatusOK {
		t.Fatalf("second refresh = %d %s", status, body)
	}
}

func TestRefreshRetryWindow(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	a := f.connect(relayURL)
	p := f.proof(relayproto.OpRefresh, a.Refresh)
	status, body := f.refresh(relayURL, a.Refresh, p)
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %s", status, body)
	}
	want := decodeAnswer(t, body)
	calls := f.ex.Calls("/oauth/token")

	status, body = f.refresh(relayURL, a.Refresh, p)
	wantError(t, status, body, http.StatusUnauthorized, "replayed_proof")

	f.clock.Advance(relayproto.AnswerWindow - time.Second)
	status, body = f.refresh(relayURL, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh))
	if status != http.StatusOK {
		t.Fatalf("retry in the window = %d %s", status, body)
	}
	if got := decodeAnswer(t, body); *got != *want {
		t.Error("retry in the window got another answer")
	}
	if n := f.ex.Calls("/oauth/token"); n != calls {
		t.Errorf("retry called the provider: %d token calls, want %d", n, calls)
	}

	f.clock.Advance(2 * time.Second)
	status, body = f.refresh(relayURL, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh))
	e := wantError(t, status, body, http.StatusBadRequest, "invalid_request")
	if e.Source != relayproto.SourceProvider || e.ProviderStatus != http.StatusUnauthorized {
		t.Errorf("reuse after the window: source %q provider_status %d, want provider 401", e.Source, e.ProviderStatus)
	}
}

func TestRefreshConcurrentOneCall(t *testing.T) {
	f := newFixture(t)
	s, relayURL := f.newRelay()
	a := f.connect(relayURL)
	g := &gate{entered: make(chan struct{}, 4), release: make(chan struct{})}
	f.gate.Store(g)
	calls := f.ex.Calls("/oauth/token")

	const n = 3
	answers := make([]*relayproto.TokenAnswer, n)
	statuses := make([]int, n)
	proofs := make([]*relayproto.Proof, n)
	for i := range proofs {
		proofs[i] = f.proof(relayproto.OpRefresh, a.Refresh)
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			status, body := f.refresh(relayURL, a.Refresh, proofs[i])
			statuses[i] = status
			if status == http.StatusOK {
				answers[i] = decodeAnswer(t, body)
			}
		})
	}
	<-g.entered
	key := sha256.Sum256([]byte(a.Refresh))
	for deadline := time.Now().Add(10 * time.Second); s.refreshes.waiting(key) < n-1; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests joined the flight", s.refreshes.waiting(key))
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(g.release)
	wg.Wait()
	f.gate.Store(nil)
	for i := range n {
		if statuses[i] != http.StatusOK || *answers[i] != *answers[0] {
			t.Fatalf("request %d = %d, or another answer", i, statuses[i])
		}
	}
	if got := f.ex.Calls("/oauth/token") - calls; got != 1 {
		t.Errorf("provider token calls = %d, want 1", got)
	}
}

func TestRefreshSurvivesHangUp(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	a := f.connect(relayURL)
	g := &gate{entered: make(chan struct{}, 1), release: make(chan struct{}), done: make(chan struct{}, 1)}
	f.gate.Store(g)
	f.refreshCtxs = make(chan context.Context, 4)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, relayURL+"/v1/refresh", jsonBody(t, relayproto.RefreshRequest{
			Provider: "exchange", Refresh: a.Refresh, Proof: f.proof(relayproto.OpRefresh, a.Refresh),
		}))
		if resp, err := f.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-g.entered
	cancel() // the device hangs up while the provider works
	<-done
	<-(<-f.refreshCtxs).Done() // and the relay has noticed
	f.gate.Store(nil)
	close(g.release)
	<-g.done // the exchange has rotated the keys; the relay holds or awaits the answer

	status, body := f.refresh(relayURL, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh))
	if status != http.StatusOK {
		t.Fatalf("retry after hang-up = %d %s", status, body)
	}
	got := decodeAnswer(t, body)
	if got.AccessToken == a.AccessToken {
		t.Error("retry did not get the rotated key")
	}
	// The keys the hung-up call rotated to are the live ones: the retry got them.
	if status, code := f.me(got.AccessToken); status != http.StatusOK {
		t.Errorf("the retry's key at the exchange = %d (code %d), want the live key", status, code)
	}
	if n := f.ex.Calls("/oauth/token"); n != 2 { // the code, then one refresh
		t.Errorf("token calls = %d, want 2", n)
	}
}

func TestRefreshRefusals(t *testing.T) {
	f := newFixture(t)
	s, relayURL := f.newRelay()
	a := f.connect(relayURL)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	forged := []byte(a.Refresh)
	forged[len(forged)/2] ^= 1
	resultAsRefresh, _ := s.sealer.sealJSON(purposeResult, "exchange", testClientID, refreshBlob{Token: "rt", DeviceKey: f.devKey})
	now := f.clock.Now()
	tests := []struct {
		name, provider, blob string
		proof                *relayproto.Proof
		status               int
		code                 string
	}{
		{"missing proof", "exchange", a.Refresh, nil, 401, "invalid_proof"},
		{"stale proof", "exchange", a.Refresh, signProof(t, f.priv, relayproto.OpRefresh, a.Refresh, now.Add(-3*time.Minute)), 401, "stale_proof"},
		{"future proof", "exchange", a.Refresh, signProof(t, f.priv, relayproto.OpRefresh, a.Refresh, now.Add(3*time.Minute)), 401, "stale_proof"},
		{"foreign key", "exchange", a.Refresh, signProof(t, otherPriv, relayproto.OpRefresh, a.Refresh, now), 401, "invalid_proof"},
		{"revoke proof", "exchange", a.Refresh, f.proof(relayproto.OpRevoke, a.Refresh), 401, "invalid_proof"},
		{"forged blob", "exchange", string(forged), f.proof(relayproto.OpRefresh, string(forged)), 400, "invalid_refresh"},
		{"result as refresh", "exchange", resultAsRefresh, f.proof(relayproto.OpRefresh, resultAsRefresh), 400, "invalid_refresh"},
		{"other provider", "other", a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh), 400, "invalid_refresh"},
		{"unknown provider", "nope", a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh), 400, "unknown_provider"},
		{"no blob", "exchange", "", f.proof(relayproto.OpRefresh, ""), 400, "invalid_request"},
	}
	calls := f.ex.Calls("/oauth/token")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.post(relayURL, "/v1/refresh", relayproto.RefreshRequest{Provider: tc.provider, Refresh: tc.blob, Proof: tc.proof})
			e := wantError(t, status, body, tc.status, tc.code)
			if e.Source != relayproto.SourceRelay {
				t.Errorf("source = %q, want relay", e.Source)
			}
			if tc.code == "stale_proof" && e.ServerTime != now.Unix() {
				t.Errorf("server_time = %d, want %d", e.ServerTime, now.Unix())
			}
		})
	}
	if n := f.ex.Calls("/oauth/token"); n != calls {
		t.Errorf("refused refreshes called the provider %d times", n-calls)
	}
	// Nothing was spent: the blob still refreshes.
	if status, body := f.refresh(relayURL, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh)); status != http.StatusOK {
		t.Errorf("refresh after refusals = %d %s", status, body)
	}
}

func TestRefreshProviderFaults(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	a := f.connect(relayURL)
	// A hung call goes on after the device's 502 (for a retry), so it hangs on a blob
	// of its own.
	hung := f.connect(relayURL)
	for _, fail := range []fakeexchange.Failure{fakeexchange.Fail500, fakeexchange.FailNonJSON, fakeexchange.FailHang} {
		blob := a.Refresh
		if fail == fakeexchange.FailHang {
			blob = hung.Refresh
		}
		f.ex.FailNext("/oauth/token", 1, fail)
		status, body := f.refresh(relayURL, blob, f.proof(relayproto.OpRefresh, blob))
		e := wantError(t, status, body, http.StatusBadGateway, "provider_unavailable")
		if e.Source != relayproto.SourceProvider {
			t.Errorf("failure %d: source %q, want provider", fail, e.Source)
		}
	}
	// A fault is not cached: the next try reaches the provider and succeeds.
	if status, body := f.refresh(relayURL, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh)); status != http.StatusOK {
		t.Errorf("refresh after faults = %d %s", status, body)
	}
}
