package relay

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/relayproto"
)

func (f *fixture) revoke(relayURL string, req relayproto.RevokeRequest) (int, []byte) {
	return f.post(relayURL, "/v1/revoke", req)
}

func TestRevokeDoorkeeper(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	a := f.connect(relayURL)

	// Refused before the provider is asked, and the proof is not spent.
	p := f.proof(relayproto.OpRevoke, a.Refresh)
	status, body := f.revoke(relayURL, relayproto.RevokeRequest{Provider: "exchange", Refresh: a.Refresh, Proof: p})
	wantError(t, status, body, http.StatusBadRequest, "invalid_request")

	status, body = f.revoke(relayURL, relayproto.RevokeRequest{Provider: "exchange", Refresh: a.Refresh, AccessToken: "AK:SK", Proof: f.proof(relayproto.OpRevoke, a.Refresh)})
	e := wantError(t, status, body, http.StatusBadRequest, "unauthorized_client")
	if e.Source != relayproto.SourceProvider || e.ProviderStatus != http.StatusForbidden {
		t.Errorf("provider refusal: source %q status %d, want provider 403", e.Source, e.ProviderStatus)
	}

	status, body = f.revoke(relayURL, relayproto.RevokeRequest{Provider: "exchange", Refresh: a.Refresh, AccessToken: a.AccessToken, Proof: p})
	if status != http.StatusNoContent {
		t.Fatalf("revoke = %d %s", status, body)
	}
	if n := f.ex.LiveKeys(); n != 0 {
		t.Errorf("live keys after revoke = %d, want 0", n)
	}
	if _, code := f.me(a.AccessToken); code != fakeexchange.CodeUnknownKey {
		t.Errorf("revoked key at the exchange: code %d", code)
	}
	status, body = f.refresh(relayURL, a.Refresh, f.proof(relayproto.OpRefresh, a.Refresh))
	if e := wantError(t, status, body, http.StatusBadRequest, "invalid_request"); e.Source != relayproto.SourceProvider {
		t.Errorf("refresh after revoke: source %q, want provider", e.Source)
	}
}

func TestRevokeRFC7009(t *testing.T) {
	f := newFixture(t)
	s, relayURL := f.newRelay()
	blob, err := s.sealer.sealJSON(purposeRefresh, "other", "other-client", refreshBlob{Token: "rt-other", DeviceKey: f.devKey})
	if err != nil {
		t.Fatal(err)
	}
	status, body := f.revoke(relayURL, relayproto.RevokeRequest{Provider: "other", Refresh: blob, Proof: f.proof(relayproto.OpRevoke, blob)})
	if status != http.StatusNoContent {
		t.Fatalf("revoke = %d %s", status, body)
	}
	r := <-f.rfcRevokes
	id, secret, _ := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if id != "other-client" || secret != otherSecret {
		t.Errorf("client auth = %q and a secret that matches: %v", id, secret == otherSecret)
	}
	if r.PostForm.Get("token") != "rt-other" || r.PostForm.Get("token_type_hint") != "refresh_token" || r.PostForm.Has("client_secret") {
		t.Errorf("revoke form has keys %v", keys(r.PostForm))
	}
}

func TestRevokeRefusals(t *testing.T) {
	f := newFixture(t)
	_, relayURL := f.newRelay()
	a := f.connect(relayURL)
	tests := []struct {
		name   string
		req    relayproto.RevokeRequest
		status int
		code   string
	}{
		{"no proof", relayproto.RevokeRequest{Provider: "exchange", Refresh: a.Refresh, AccessToken: a.AccessToken}, 401, "invalid_proof"},
		{"refresh proof", relayproto.RevokeRequest{Provider: "exchange", Refresh: a.Refresh, AccessToken: a.AccessToken, Proof: f.proof(relayproto.OpRefresh, a.Refresh)}, 401, "invalid_proof"},
		{"unknown provider", relayproto.RevokeRequest{Provider: "nope", Refresh: a.Refresh, Proof: f.proof(relayproto.OpRevoke, a.Refresh)}, 400, "unknown_provider"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.revoke(relayURL, tc.req)
			wantError(t, status, body, tc.status, tc.code)
		})
	}
	if n := f.ex.Calls("/oauth/revoke"); n != 0 {
		t.Errorf("refused revokes called the provider %d times", n)
	}
}

// TestRevokeOutlivesProviderTimeout: a provider slower than provider_timeout (1 s here)
// gets the revocation to its end: the device is answered 502, the relay's call waits
// for the provider's answer instead of hanging up.
func TestRevokeOutlivesProviderTimeout(t *testing.T) {
	f := newFixture(t)
	answered := make(chan struct{}) // closed once the device has its 502
	finished := make(chan error, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // the provider works on until the device was answered
		case <-answered:
		case <-time.After(20 * time.Second):
		}
		finished <- r.Context().Err()
		writeJSON(w, http.StatusOK, struct{}{})
	}))
	t.Cleanup(slow.Close)
	f.mutate = func(s string) string {
		s = strings.Replace(s, `provider_timeout = "2s"`, `provider_timeout = "1s"`, 1)
		return strings.Replace(s, f.rfcRevoke, slow.URL+"/revoke", 1)
	}
	s, relayURL := f.newRelay()
	blob, err := s.sealer.sealJSON(purposeRefresh, "other", "other-client", refreshBlob{Token: "rt-other", DeviceKey: f.devKey})
	if err != nil {
		t.Fatal(err)
	}
	status, body := f.revoke(relayURL, relayproto.RevokeRequest{Provider: "other", Refresh: blob, Proof: f.proof(relayproto.OpRevoke, blob)})
	close(answered)
	wantError(t, status, body, http.StatusBadGateway, "provider_unavailable")
	select {
	case err := <-finished:
		if err != nil {
			t.Errorf("the relay hung up on the provider's revoke: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the provider never finished the revoke")
	}
}
