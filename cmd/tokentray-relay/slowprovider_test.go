package main

import (
	"net/http"
	"testing"
	"time"
)

// TestSlowProviderAnswerReachesRetry runs the real relay with provider_timeout 1s in
// front of a provider that rotates only after the device was answered: the device is
// answered 502 at 1 s, the relay's call goes on, and the device's retry (same blob,
// new proof) gets the rotated keys with no second provider call (docs/relay.md §3,
// issue 15 item 2).
func TestSlowProviderAnswerReachesRetry(t *testing.T) {
	bin := relayBinary(t)
	const secret = "slow-provider-client-secret-01"
	ce := newCountingExchange(t, secret)
	dir := t.TempDir()
	writeSharedFiles(t, dir, secret)
	p := startRelayProc(t, bin, dir, "relay", "", relayConfig(ce.url, `provider_timeout = "1s"`))
	ce.ex.AddRedirectURI(p.url + "/v1/callback")

	d := newDevice(t, p.url)
	blob := d.connect()
	answered := make(chan struct{})    // closed once the device has its 502
	hang := func(*http.Request) bool { // the provider works on, client or not
		select {
		case <-answered:
		case <-time.After(20 * time.Second):
		}
		return true
	}
	ce.hold.Store(&hang)

	status, body := d.refreshAt(p.url, blob)
	close(answered)
	if status != http.StatusBadGateway || body["error"] != "provider_unavailable" || body["source"] != "provider" {
		t.Fatalf("refresh behind a slow provider = %d %v, want 502 provider_unavailable from the provider", status, body)
	}
	select {
	case <-ce.served: // the provider has rotated; the relay holds the answer or is receiving it
	case <-time.After(20 * time.Second):
		t.Fatal("the provider never finished the refresh")
	}
	ce.hold.Store(nil)

	status, body = d.refreshAt(p.url, blob)
	if status != http.StatusOK {
		t.Fatalf("retry after the 502 = %d %v, want 200 with the rotated keys", status, body)
	}
	access, _ := body["access_token"].(string)
	if !ce.keyLive(t, access) {
		t.Error("the retry's key is not live at the exchange")
	}
	if body["refresh"] == nil || body["refresh"] == blob {
		t.Error("the retry carries no new refresh blob")
	}
	if n := ce.refreshes.Load(); n != 1 {
		t.Errorf("the provider saw %d refresh calls, want 1", n)
	}
	// The rotated blob refreshes on: the grant is alive.
	status, body = d.refreshAt(p.url, body["refresh"].(string))
	if status != http.StatusOK {
		t.Fatalf("refresh of the rotated blob = %d %v", status, body)
	}
}
