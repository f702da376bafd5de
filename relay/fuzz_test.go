package relay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokentray/tokentray/relayproto"
)

// FuzzRequestDecoders posts arbitrary bodies to every JSON endpoint. Property: the relay
// never fails (5xx) or succeeds on garbage (only a well-formed authorize may succeed), always answers a JSON error of its own, and
// never calls the provider for a request it refuses.
func FuzzRequestDecoders(f *testing.F) {
	for _, seed := range []string{
		`{"provider":"exchange","loopback":"http://127.0.0.1:1/cb","state":"s","code_challenge":"x","code_challenge_method":"S256","device_key":"k"}`,
		`{"result":"AQJrMQ","code_verifier":"v"}`,
		`{"provider":"exchange","refresh":"AQJrMQ","proof":{"sig":"","ts":1700000000,"nonce":""}}`,
		`{"provider":"exchange","refresh":"AQJrMQ","proof":{"sig":"x","ts":"17e8","nonce":"x"},"access_token":"a:b"}`,
		`[]`, `null`, `{"proof":null}`, `{"fields":{"a":1}}`,
	} {
		for path := range 4 {
			f.Add(uint8(path), []byte(seed))
		}
	}
	fx := newFixture(f)
	s := fx.newRelayAt("http://127.0.0.1:9")
	paths := []string{"/v1/authorize", "/v1/redeem", "/v1/refresh", "/v1/revoke"}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		if path == "/v1/authorize" && rec.Code == http.StatusOK {
			return // a well-formed request; authorize never calls the provider
		}
		if rec.Code >= 500 || rec.Code < 400 {
			t.Fatalf("POST %s %q = %d %s", path, body, rec.Code, rec.Body)
		}
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Source != relayproto.SourceRelay {
			t.Fatalf("POST %s %q: error body %s", path, body, rec.Body)
		}
		if n := fx.ex.Calls("/oauth/token") + fx.ex.Calls("/oauth/revoke"); n != 0 {
			t.Fatalf("the provider was called %d times", n)
		}
	})
}
