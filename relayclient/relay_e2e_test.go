package relayclient

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"github.com/tokentray/tokentray/internal/devstack"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relay"
	"github.com/tokentray/tokentray/relayproto"
)

// realRelay is the relay server in front of the simulated exchange, both
// on loopback httptest servers.
type realRelay struct {
	ex       *fakeexchange.Exchange
	exURL    string
	url      string
	provider oauthflow.Provider // as the device sees it, from GET /v1/providers
	client   *Client
	cut      atomic.Pointer[cutRule] // the next request to cut, if any
	served   sync.Map                // path → *atomic.Int32: requests the relay served
}

// cutRule cuts the connection of the next request for path without an
// answer: after the relay served it (served: the answer is lost) or before
// it saw anything (as a relay that restarted, or closed the idle
// connection just as the request went out).
type cutRule struct {
	path   string
	served bool
}

// servedCalls returns how many requests for path the relay served.
func (rr *realRelay) servedCalls(path string) int {
	n, _ := rr.served.LoadOrStore(path, new(atomic.Int32))
	return int(n.(*atomic.Int32).Load())
}

func newRealRelay(t *testing.T, relayClock func() time.Time) *realRelay {
	t.Helper()
	rr := &realRelay{}
	rr.ex = fakeexchange.New(fakeexchange.Config{})
	rr.ex.SetApproval(fakeexchange.AutoApprove)
	exSrv := httptest.NewServer(rr.ex)
	t.Cleanup(func() { rr.ex.Close(); exSrv.Close() })
	rr.exURL = exSrv.URL

	var h atomic.Pointer[relay.Server]
	relaySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve := func(w http.ResponseWriter) {
			n, _ := rr.served.LoadOrStore(r.URL.Path, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			h.Load().ServeHTTP(w, r)
		}
		if c := rr.cut.Load(); c != nil && c.path == r.URL.Path && rr.cut.CompareAndSwap(c, nil) {
			if c.served {
				serve(httptest.NewRecorder())
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		serve(w)
	}))
	t.Cleanup(relaySrv.Close)
	rr.url = relaySrv.URL
	rr.ex.AddRedirectURI(relaySrv.URL + "/v1/callback")

	key := make([]byte, 32)
	rand.Read(key)
	sealKeys := filepath.Join(t.TempDir(), "seal.keys")
	if err := os.WriteFile(sealKeys, []byte("k1 "+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &relay.Config{
		Listen: "127.0.0.1:0", PublicURL: relaySrv.URL, SealKeysFile: sealKeys,
		RatePerMinute: 600, ProviderCallsPerSecond: 50, ProviderTimeout: 5 * time.Second,
		Providers: []relay.Provider{{ClientSecret: "demo-client-secret", Provider: relayproto.Provider{
			ID: "exchange", Name: "EXchange",
			AuthorizeURL: exSrv.URL + "/oauth/authorize", TokenURL: exSrv.URL + "/oauth/token", RevokeURL: exSrv.URL + "/oauth/revoke",
			RevokeStyle: relayproto.RevokeDoorkeeper, ClientID: "tokentray-demo", AuthStyle: relayproto.AuthParams,
			TokenFormat: relayproto.FormatPeatio, DefaultLifetime: relayproto.Duration(4 * time.Hour),
			APIBase: exSrv.URL + "/api/v2", MePath: "/members/me", Label: "{{.name}}'s EXchange", AccountField: "sn",
			AllowedHosts: []string{"127.0.0.1"},
			Scopes:       []relayproto.Scope{{Name: "profile", Default: true, Required: true}, {Name: "history", Default: true}, {Name: "trade"}},
		}}},
	}
	opts := []relay.Option{relay.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	if relayClock != nil {
		opts = append(opts, relay.WithClock(relayClock))
	}
	s, err := relay.New(cfg, opts...)
	if err != nil {
		t.Fatalf("relay.New: %v", err)
	}
	h.Store(s)

	rr.client = &Client{BaseURL: relaySrv.URL, Device: newTestDevice(t)}
	ps, err := rr.client.Providers(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatalf("Providers = %v, %v", ps, err)
	}
	rr.provider = ps[0]
	return rr
}

func (rr *realRelay) connect(t *testing.T, scopes ...string) (*oauthflow.Token, *devstack.PageBrowser, error) {
	t.Helper()
	b := &devstack.PageBrowser{}
	tok, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{Relay: rr.client, Provider: rr.provider, Scopes: scopes,
		Fields: map[string]string{}, Open: b.Open, Timeout: 10 * time.Second})
	return tok, b, err
}

func TestRealRelayLifecycle(t *testing.T) {
	rr := newRealRelay(t, nil)
	p := rr.provider
	if p.TokenFormat != relayproto.FormatPeatio || time.Duration(p.DefaultLifetime) != 4*time.Hour || p.ClientID != "" || p.AuthorizeURL != "" {
		t.Fatalf("provider from the relay = %+v", p)
	}
	tok, b, err := rr.connect(t, "profile", "history")
	if err != nil {
		t.Fatalf("ConnectRelay through the real relay: %v", err)
	}
	if tok.AccessKey == "" || tok.SecretKey == "" || tok.RefreshCredential == "" {
		t.Fatalf("token = %v", tok)
	}
	if _, body, h := b.Page(); !strings.Contains(body, "Connected") {
		t.Errorf("final page %q", body)
	} else {
		devstack.CheckPageHeaders(t, h)
	}
	if d := time.Until(tok.Expiry); d < 3*time.Hour || d > 4*time.Hour+time.Minute {
		t.Errorf("expiry in %v, want about 4h", d)
	}

	signer := &peatio.Signer{}
	me, err := oauthflow.FetchMe(context.Background(), nil, p, tok, nil, signer)
	if err != nil || me.Account != "ID1A2B3C4D5E" || me.Label != "Alice Trader's EXchange" {
		t.Fatalf("FetchMe = %+v, %v", me, err)
	}

	rr.ex.ExpireAllKeys()
	if _, err := oauthflow.FetchMe(context.Background(), nil, p, tok, nil, signer); !errors.Is(err, &oauthflow.Error{Code: "2010"}) {
		t.Fatalf("FetchMe with an expired key = %v, want 2010", err)
	}
	nt, err := rr.client.Refresh(context.Background(), p, tok)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if nt.AccessKey == tok.AccessKey || nt.RefreshCredential == tok.RefreshCredential || len(nt.ScopesGranted) == 0 {
		t.Errorf("refresh did not rotate: same key %v, same blob %v", nt.AccessKey == tok.AccessKey, nt.RefreshCredential == tok.RefreshCredential)
	}
	if _, err := oauthflow.FetchMe(context.Background(), nil, p, nt, nil, signer); err != nil {
		t.Fatalf("FetchMe with the refreshed key: %v", err)
	}

	// Another device holding the blob gets nowhere: the proof is bound.
	thief := &Client{BaseURL: rr.url, Device: newTestDevice(t)}
	if _, err := thief.Refresh(context.Background(), p, nt); !errors.As(err, new(*oauthflow.Error)) {
		t.Errorf("Refresh with another device key = %v, want a relay refusal", err)
	}

	if err := rr.client.Revoke(context.Background(), p, nt); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if n := rr.ex.LiveKeys(); n != 0 {
		t.Errorf("LiveKeys after revoke = %d, want 0", n)
	}
}

func TestRealRelayProviderDenies(t *testing.T) {
	rr := newRealRelay(t, nil)
	rr.ex.SetApproval(fakeexchange.AutoDeny)
	_, b, err := rr.connect(t, "profile")
	var e *oauthflow.Error
	if !errors.As(err, &e) || e.Code != "access_denied" || e.Source != relayproto.SourceProvider || e.Description == "" {
		t.Fatalf("ConnectRelay when the user denies = %v, want the provider's access_denied", err)
	}
	if _, body, _ := b.Page(); !strings.Contains(body, "access_denied") {
		t.Errorf("page does not show the provider's error: %s", body)
	}
}

func TestRealRelayStaleProof(t *testing.T) {
	rr := newRealRelay(t, func() time.Time { return time.Now().Add(10 * time.Minute) })
	tok, _, err := rr.connect(t, "profile")
	if err != nil {
		t.Fatalf("ConnectRelay: %v", err)
	}
	if _, err := rr.client.Refresh(context.Background(), rr.provider, tok); err != nil {
		t.Fatalf("Refresh with the relay 10 min ahead: %v", err)
	}
	if off := rr.client.ClockOffset(); off < 9*time.Minute || off > 11*time.Minute {
		t.Errorf("ClockOffset = %v, want about 10m", off)
	}
}

func TestRealRelayProviderDown(t *testing.T) {
	rr := newRealRelay(t, nil)
	tok, _, err := rr.connect(t, "profile")
	if err != nil {
		t.Fatalf("ConnectRelay: %v", err)
	}
	rr.ex.FailNext("/oauth/token", 1, fakeexchange.Fail500)
	_, err = rr.client.Refresh(context.Background(), rr.provider, tok)
	var e *oauthflow.Error
	if !errors.As(err, &e) || e.HTTPStatus != http.StatusBadGateway || e.Source != relayproto.SourceProvider || e.Code != "provider_unavailable" {
		t.Fatalf("Refresh with the provider down = %v, want 502 provider_unavailable", err)
	}
}

// TestRealRelayKeptConnectionLost: a refresh or revoke whose kept
// connection to the relay ends before any answer (the relay restarted, or
// served the call and the answer was lost) is sent again at once with a
// fresh proof, and succeeds in that one call: a refresh gets the answer the
// relay kept for the blob, a revocation is accepted again. Without it the
// agent saw a maybe-sent failure and stayed "refreshing" until its backoff.
func TestRealRelayKeptConnectionLost(t *testing.T) {
	rr := newRealRelay(t, nil)
	tok, _, err := rr.connect(t, "profile")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	signer := &peatio.Signer{}
	for _, served := range []bool{false, true} {
		before := rr.servedCalls("/v1/refresh")
		rr.cut.Store(&cutRule{path: "/v1/refresh", served: served})
		nt, err := rr.client.Refresh(context.Background(), rr.provider, tok)
		if err != nil {
			t.Fatalf("Refresh on a kept connection cut (relay served it: %v) = %v, want the refreshed keys", served, err)
		}
		if want := before + 1 + map[bool]int{false: 0, true: 1}[served]; rr.servedCalls("/v1/refresh") != want {
			t.Errorf("the relay served %d refreshes, want %d", rr.servedCalls("/v1/refresh"), want)
		}
		if _, err := oauthflow.FetchMe(context.Background(), nil, rr.provider, nt, nil, signer); err != nil {
			t.Fatalf("FetchMe with the keys of the retried refresh: %v", err)
		}
		tok = nt
	}
	rr.cut.Store(&cutRule{path: "/v1/revoke", served: true})
	if err := rr.client.Revoke(context.Background(), rr.provider, tok); err != nil {
		t.Fatalf("Revoke on a kept connection cut after the relay served it = %v, want nil", err)
	}
	if n := rr.ex.LiveKeys(); n != 0 {
		t.Errorf("LiveKeys after revoke = %d, want 0", n)
	}
}

// TestRealRelayRedeemIsNotResent: a redeem spends its flow result, so a
// redeem cut on its kept connection after the relay served it is not sent
// again (it would answer result_used): the caller sees the relay as
// unreachable.
func TestRealRelayRedeemIsNotResent(t *testing.T) {
	rr := newRealRelay(t, nil)
	rr.cut.Store(&cutRule{path: "/v1/redeem", served: true})
	_, _, err := rr.connect(t, "profile")
	if !errors.Is(err, ErrRelayUnreachable) {
		t.Fatalf("connect with the redeem's answer lost = %v, want ErrRelayUnreachable", err)
	}
	if n := rr.servedCalls("/v1/redeem"); n != 1 {
		t.Errorf("the relay served %d redeems, want 1", n)
	}
}
