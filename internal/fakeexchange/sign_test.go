package fakeexchange

import (
	"net/url"
	"testing"
)

func TestSignVector(t *testing.T) {
	params := url.Values{"access_key": {"xxx"}, "foo": {"bar"}, "tonce": {"123456789"}, "signature": {"ignored"}}
	payload := Payload("GET", "/api/v2/markets", params)
	if want := "GET|/api/v2/markets|access_key=xxx&foo=bar&tonce=123456789"; payload != want {
		t.Fatalf("Payload = %q, want %q", payload, want)
	}
	const want = "e324059be4491ed8e528aa7b8735af1e96547fbec96db962d51feb7bf1b64dee"
	if got := Sign("yyy", payload); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}
