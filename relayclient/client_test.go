package relayclient

import (
	"context"
	"encoding/hex"
	"errors"
	"github.com/tokentray/tokentray/internal/devstack"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// connectedToken runs a full relay flow against d and returns its token.
func connectedToken(t *testing.T, d *relayDouble, c *Client) *oauthflow.Token {
	t.Helper()
	b := &devstack.PageBrowser{}
	tok, err := oauthflow.ConnectRelay(context.Background(), oauthflow.RelayConnect{Relay: c, Provider: exchangeProvider,
		Scopes: []string{"profile", "history"}, Open: b.Open, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("ConnectRelay: %v", err)
	}
	return tok
}

func TestRelayRefreshAndRevoke(t *testing.T) {
	d := newRelayDouble(t)
	c := &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}
	tok := connectedToken(t, d, c)
	nt, err := c.Refresh(context.Background(), exchangeProvider, tok)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if nt.AccessKey != "AK2" || nt.RefreshCredential != tok.RefreshCredential+"-2" {
		t.Errorf("refreshed = %q, blob %q; want AK2 and the new blob", nt.AccessKey, nt.RefreshCredential)
	}
	if !slices.Equal(nt.ScopesGranted, tok.ScopesGranted) {
		t.Errorf("ScopesGranted after a refresh without scope = %q, want the old %q", nt.ScopesGranted, tok.ScopesGranted)
	}
	if want := relayproto.BlobHash(tok.RefreshCredential); d.blobHeader != want || len(want) != 64 {
		t.Errorf("X-Tokentray-Blob = %q, want hex(SHA256(blob)) %q", d.blobHeader, want)
	}
	if _, err := hex.DecodeString(d.blobHeader); err != nil {
		t.Errorf("X-Tokentray-Blob not hex: %v", err)
	}
	if err := c.Revoke(context.Background(), exchangeProvider, nt); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
}

func TestRelayStaleProofRetriesOnce(t *testing.T) {
	d := newRelayDouble(t)
	c := &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}
	tok := connectedToken(t, d, c)
	// The relay's clock is 10 minutes ahead of ours.
	d.mu.Lock()
	d.clock = time.Now().Add(10 * time.Minute)
	d.proofs = 0
	d.mu.Unlock()
	if _, err := c.Refresh(context.Background(), exchangeProvider, tok); err != nil {
		t.Fatalf("Refresh with a skewed clock: %v", err)
	}
	if d.proofs != 2 {
		t.Errorf("proofs sent = %d, want 2 (one stale, one retry)", d.proofs)
	}
	if off := c.ClockOffset(); off < 9*time.Minute || off > 11*time.Minute {
		t.Errorf("ClockOffset = %v, want about 10m", off)
	}
	// Later calls use the offset at once.
	d.proofs = 0
	if err := c.Revoke(context.Background(), exchangeProvider, tok); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if d.proofs != 1 {
		t.Errorf("proofs sent after correction = %d, want 1", d.proofs)
	}
}

func TestRelayStaleProofTwiceGivesUp(t *testing.T) {
	d := newRelayDouble(t)
	c := &Client{BaseURL: d.srv.URL, Device: newTestDevice(t)}
	tok := connectedToken(t, d, c)
	// The relay answers stale_proof whatever the proof says.
	d.refreshOp = func(w http.ResponseWriter, r *http.Request) {
		writeTestJSON(w, 401, map[string]any{"error": "stale_proof", "source": "relay", "server_time": time.Now().Unix()})
	}
	d.proofs = 0
	_, err := c.Refresh(context.Background(), exchangeProvider, tok)
	if !errors.Is(err, &oauthflow.Error{Code: "stale_proof"}) {
		t.Fatalf("Refresh = %v, want stale_proof", err)
	}
	if d.proofs != 2 {
		t.Errorf("proofs sent = %d, want 2", d.proofs)
	}
}

func TestRelayErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		want     oauthflow.Error
		leakFree string
	}{
		{"provider refusal", 400, `{"error":"invalid_grant","error_description":"The provided authorization grant is invalid, expired, revoked","source":"provider","provider_status":401}`,
			oauthflow.Error{Code: "invalid_grant", Description: "The provided authorization grant is invalid, expired, revoked", Source: relayproto.SourceProvider, HTTPStatus: 400, ProviderStatus: 401}, ""},
		{"provider down", 502, `{"error":"provider_unavailable","error_description":"timeout","source":"provider"}`,
			oauthflow.Error{Code: "provider_unavailable", Description: "timeout", Source: relayproto.SourceProvider, HTTPStatus: 502}, ""},
		{"rate limited", 429, `{"error":"rate_limited","error_description":"slow down","source":"relay"}`,
			oauthflow.Error{Code: "rate_limited", Description: "slow down", Source: relayproto.SourceRelay, HTTPStatus: 429}, ""},
		{"not json", 500, `<html>SECRETPAGE</html>`,
			oauthflow.Error{Code: "http_500", Description: "Internal Server Error", Source: relayproto.SourceRelay, HTTPStatus: 500}, "SECRETPAGE"},
		{"unknown source is the relay", 400, `{"error":"x","source":"mars"}`, oauthflow.Error{Code: "x", Source: relayproto.SourceRelay, HTTPStatus: 400}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL, Device: newTestDevice(t)}
			_, err := c.Refresh(context.Background(), exchangeProvider, &oauthflow.Token{RefreshCredential: "BLOBSECRET"})
			var e *oauthflow.Error
			if !errors.As(err, &e) {
				t.Fatalf("Refresh = %v, want *oauthflow.Error", err)
			}
			if *e != tt.want {
				t.Errorf("error = %+v, want %+v", *e, tt.want)
			}
			for _, s := range []string{"BLOBSECRET", tt.leakFree} {
				if s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q holds %q", err, s)
				}
			}
		})
	}
}

func TestRelayBaseURL(t *testing.T) {
	for _, base := range []string{"http://relay.example.com", "ftp://127.0.0.1", "", "https://user:pw@relay.example.com"} {
		c := &Client{BaseURL: base, Device: newTestDevice(t)}
		if _, err := c.Providers(context.Background()); !errors.Is(err, relayproto.ErrURLRefused) {
			t.Errorf("Providers with BaseURL %q = %v, want relayproto.ErrURLRefused", base, err)
		}
	}
}

func TestRelayProviders(t *testing.T) {
	d := newRelayDouble(t)
	c := &Client{BaseURL: d.srv.URL}
	ps, err := c.Providers(context.Background())
	if err != nil {
		t.Fatalf("Providers: %v", err)
	}
	if len(ps) != 1 || ps[0].ID != "exchange" || time.Duration(ps[0].DefaultLifetime) != 4*time.Hour || !ps[0].Scopes[0].Required {
		t.Errorf("Providers = %+v", ps)
	}
}

func TestRelayMissingBlob(t *testing.T) {
	c := &Client{BaseURL: "http://127.0.0.1:1", Device: newTestDevice(t)}
	if _, err := c.Refresh(context.Background(), exchangeProvider, &oauthflow.Token{}); err == nil {
		t.Error("Refresh without a blob succeeded")
	}
	if err := c.Revoke(context.Background(), exchangeProvider, nil); err == nil {
		t.Error("Revoke without a token succeeded")
	}
}
