package oauthflow_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relay"
	"github.com/tokentray/tokentray/relayclient"
	"github.com/tokentray/tokentray/relayproto"
)

// deviceKey is a relayclient.DeviceSigner; in tokentray the vault holds this key.
type deviceKey struct{ priv ed25519.PrivateKey }

func (k deviceKey) PublicKey() ed25519.PublicKey    { return k.priv.Public().(ed25519.PublicKey) }
func (k deviceKey) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(k.priv, msg), nil }

// This example connects an account through the relay: a simulated
// exchange and a relay run on loopback, and the "browser" is an HTTP client
// that follows the authorize URL to the loopback listener.
func ExampleConnectRelay() {
	ctx := context.Background()
	relayURL, stop := startExchangeAndRelay()
	defer stop()

	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	rc := &relayclient.Client{BaseURL: relayURL, Device: deviceKey{priv}}
	providers, err := rc.Providers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	p := providers[0]

	// In tokentray: browser.FromEnv(os.Getenv, nil).
	browser := func(ctx context.Context, u string) error {
		resp, err := http.Get(u) // provider → relay → 302 → loopback
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	tok, err := oauthflow.ConnectRelay(ctx, oauthflow.RelayConnect{
		Relay:    rc,
		Provider: p,
		Scopes:   []string{"profile", "history"},
		Open:     browser,
		OnURL:    func(string) { fmt.Println("authorize URL ready") },
		Timeout:  time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("granted:", tok.ScopesGranted)

	// Name the connection with the me-API (a signed Peatio request).
	signer := &peatio.Signer{}
	me, err := oauthflow.FetchMe(ctx, nil, p, tok, nil, signer)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.Label, me.Account)

	// Later: a fresh key pair with a new sealed refresh blob, then revoke.
	tok, err = rc.Refresh(ctx, p, tok)
	if err != nil {
		log.Fatal(err)
	}
	if err := rc.Revoke(ctx, p, tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println("revoked")
	// Output:
	// authorize URL ready
	// granted: [profile history]
	// Alice Trader's EXchange ID1A2B3C4D5E
	// revoked
}

// startExchangeAndRelay serves the simulated exchange and a relay for it.
func startExchangeAndRelay() (relayURL string, stop func()) {
	ex := fakeexchange.New(fakeexchange.Config{})
	ex.SetApproval(fakeexchange.AutoApprove)
	exSrv := httptest.NewServer(ex)
	var h http.Handler
	relaySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	ex.AddRedirectURI(relaySrv.URL + "/v1/callback")

	dir, _ := os.MkdirTemp("", "oauthflow-example")
	key := make([]byte, 32)
	rand.Read(key)
	keys := filepath.Join(dir, "seal.keys")
	os.WriteFile(keys, []byte("k1 "+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600)
	s, err := relay.New(&relay.Config{
		Listen: "127.0.0.1:0", PublicURL: relaySrv.URL, SealKeysFile: keys,
		RatePerMinute: 60, ProviderCallsPerSecond: 20, ProviderTimeout: 15 * time.Second,
		Providers: []relay.Provider{{ClientSecret: "demo-client-secret", Provider: relayproto.Provider{
			ID: "exchange", Name: "EXchange", ClientID: "tokentray-demo",
			AuthorizeURL: exSrv.URL + "/oauth/authorize", TokenURL: exSrv.URL + "/oauth/token",
			RevokeURL: exSrv.URL + "/oauth/revoke", RevokeStyle: relayproto.RevokeDoorkeeper, AuthStyle: relayproto.AuthParams,
			TokenFormat: relayproto.FormatPeatio, DefaultLifetime: relayproto.Duration(4 * time.Hour),
			APIBase: exSrv.URL + "/api/v2", MePath: "/members/me", Label: "{{.name}}'s EXchange",
			AccountField: "sn", AllowedHosts: []string{"127.0.0.1"},
			Scopes: []relayproto.Scope{{Name: "profile", Required: true}, {Name: "history"}, {Name: "trade"}},
		}}},
	}, relay.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		log.Fatal(err)
	}
	h = s
	return relaySrv.URL, func() { relaySrv.Close(); ex.Close(); exSrv.Close(); os.RemoveAll(dir) }
}
