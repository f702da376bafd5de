package relay

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokentray/tokentray/relayproto"
)

// TestLogsHoldNoSecrets runs a whole connection, a refresh, refusals and a revoke, then
// checks that no secret of any of them appears in the relay's log.
func TestLogsHoldNoSecrets(t *testing.T) {
	f := newFixture(t)
	s, relayURL := f.newRelay()
	d := newDevice()
	authURL := f.authorize(relayURL, f.authorizeRequest(d))
	q := f.walk(authURL, "")
	secrets := map[string]string{
		"client secret": testClientSecret, "other secret": otherSecret,
		"verifier": d.verifier, "device state": d.state,
		"ticket": f.lastCallback.Get("state"), "code": f.lastCallback.Get("code"),
		"result": q.Get("result"),
	}
	status, body := f.redeem(relayURL, q.Get("result"), d.verifier+"wrong")
	wantError(t, status, body, http.StatusBadRequest, "invalid_verifier")
	status, body = f.redeem(relayURL, q.Get("result"), d.verifier)
	if status != http.StatusOK {
		t.Fatalf("redeem = %d", status)
	}
	a := decodeAnswer(t, body)
	p := f.proof(relayproto.OpRefresh, a.Refresh)
	status, body = f.refresh(relayURL, a.Refresh, p)
	if status != http.StatusOK {
		t.Fatalf("refresh = %d", status)
	}
	b := decodeAnswer(t, body)
	f.refresh(relayURL, a.Refresh, p)                                                                   // replayed
	f.post(relayURL, "/v1/refresh", relayproto.RefreshRequest{Provider: b.Refresh, Refresh: b.Refresh}) // confused client
	rp := f.proof(relayproto.OpRevoke, b.Refresh)
	if status, _ := f.revoke(relayURL, relayproto.RevokeRequest{Provider: "exchange", Refresh: b.Refresh, AccessToken: b.AccessToken, Proof: rp}); status != http.StatusNoContent {
		t.Fatalf("revoke = %d", status)
	}
	for name, ans := range map[string]*relayproto.TokenAnswer{"first": a, "second": b} {
		ak, sk, _ := strings.Cut(ans.AccessToken, ":")
		secrets[name+" access key"] = ak
		secrets[name+" secret key"] = sk
		secrets[name+" blob"] = ans.Refresh
		var rb refreshBlob
		if err := s.sealer.openJSON(purposeRefresh, "exchange", testClientID, ans.Refresh, &rb); err != nil {
			t.Fatal(err)
		}
		secrets[name+" refresh token"] = rb.Token
	}
	secrets["proof sig"], secrets["proof nonce"] = p.Sig, p.Nonce
	secrets["revoke sig"] = rp.Sig

	logs := f.logs.String()
	if !strings.Contains(logs, "refreshed at provider") || !strings.Contains(logs, "revoked at provider") {
		t.Fatalf("the log misses outcomes:\n%s", logs)
	}
	for name, secret := range secrets {
		if len(secret) < 8 {
			t.Fatalf("%s is too short to search for", name)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows the %s", name)
		}
	}
}
