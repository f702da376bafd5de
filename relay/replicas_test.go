package relay

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/tokentray/tokentray/relayproto"
)

// TestReplicasShareKeys runs each step of a connection on another relay process behind
// one public URL: both read the same seal keys file.
func TestReplicasShareKeys(t *testing.T) {
	f := newFixture(t)
	var target atomic.Pointer[Server]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	f.ex.AddRedirectURI(front.URL + "/v1/callback")
	a, b := f.newRelayAt(front.URL), f.newRelayAt(front.URL)

	d := newDevice()
	target.Store(a)
	authURL := f.authorize(front.URL, f.authorizeRequest(d))
	target.Store(b)
	q := f.walk(authURL, "")
	if q.Get("result") == "" {
		t.Fatalf("callback on the second relay: %q", q.Get("error"))
	}
	target.Store(a)
	status, body := f.redeem(front.URL, q.Get("result"), d.verifier)
	if status != http.StatusOK {
		t.Fatalf("redeem on the first relay = %d %s", status, body)
	}
	ans := decodeAnswer(t, body)
	target.Store(b)
	status, body = f.refresh(front.URL, ans.Refresh, f.proof(relayproto.OpRefresh, ans.Refresh))
	if status != http.StatusOK {
		t.Fatalf("refresh on the second relay = %d %s", status, body)
	}
	ans = decodeAnswer(t, body)

	// Rotation: a new first key; the old one still opens.
	oldKeys := f.readFile("seal.keys")
	newLine, _ := newKeyLine(t, "k2")
	f.writeFile("seal.keys", newLine+oldKeys)
	c := f.newRelayAt(front.URL)
	target.Store(c)
	status, body = f.refresh(front.URL, ans.Refresh, f.proof(relayproto.OpRefresh, ans.Refresh))
	if status != http.StatusOK {
		t.Fatalf("old-key blob on the rotated relay = %d %s", status, body)
	}
	ans = decodeAnswer(t, body)
	raw, _ := base64.RawURLEncoding.DecodeString(ans.Refresh)
	if kid := string(raw[2 : 2+raw[1]]); kid != "k2" {
		t.Errorf("new blob sealed under %q, want k2", kid)
	}
	target.Store(a)
	status, body = f.refresh(front.URL, ans.Refresh, f.proof(relayproto.OpRefresh, ans.Refresh))
	wantError(t, status, body, http.StatusBadRequest, "invalid_refresh")
}
