package fakeexchange

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
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
	if !Verify("yyy", payload, want) {
		t.Error("Verify rejects the test vector")
	}
}

func TestPayload(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		params url.Values
		want   string
	}{
		{"sorted by key", "GET", "/api/v2/orders", url.Values{"tonce": {"1"}, "market": {"btcusd"}, "access_key": {"a"}},
			"GET|/api/v2/orders|access_key=a&market=btcusd&tonce=1"},
		{"excluded keys", "GET", "/api/v2/orders", url.Values{"signature": {"s"}, "format": {"json"}, "route_info": {"r"}, "a": {"1"}},
			"GET|/api/v2/orders|a=1"},
		{"values not escaped", "POST", "/api/v2/orders", url.Values{"note": {"a b&c=d%"}, "price": {"1.5"}},
			"POST|/api/v2/orders|note=a b&c=d%&price=1.5"},
		{"last value wins", "GET", "/p", url.Values{"a": {"1", "2"}}, "GET|/p|a=2"},
		{"empty value kept", "GET", "/p", url.Values{"a": {""}}, "GET|/p|a="},
		{"no params", "GET", "/api/v2/markets", nil, "GET|/api/v2/markets|"},
		{"key without values skipped", "GET", "/p", url.Values{"a": {}, "b": {"x"}}, "GET|/p|b=x"},
		{"uppercase sorts first", "GET", "/p", url.Values{"b": {"1"}, "B": {"2"}}, "GET|/p|B=2&b=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Payload(tt.method, tt.path, tt.params); got != tt.want {
				t.Errorf("Payload(%q, %q, %v) = %q, want %q", tt.method, tt.path, tt.params, got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	good := Sign("secret", "GET|/p|")
	tests := []struct {
		name      string
		secret    string
		signature string
		want      bool
	}{
		{"correct", "secret", good, true},
		{"uppercase hex", "secret", strings.ToUpper(good), false},
		{"other secret", "secret2", good, false},
		{"truncated", "secret", good[:63], false},
		{"extended", "secret", good + "0", false},
		{"empty", "secret", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.secret, "GET|/p|", tt.signature); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzVerify checks the signature verifier: it never panics on any input,
// a signature other than the right one never verifies, and a request
// correctly signed over arbitrary parameters (sent through the real
// handler, so through URL encoding and parsing) always verifies.
func FuzzVerify(f *testing.F) {
	f.Add("yyy", "foo=bar", "e324059be4491ed8e528aa7b8735af1e96547fbec96db962d51feb7bf1b64dee", "k", "v")
	f.Add("", "a=1&a=2&b=", "", "note", "a b&c=d%")
	f.Add("s", "format=json&route_info=x", "00", "", "")
	f.Add("s", "x=%ZZ;y", "zz", ";", "\xff\x00")
	f.Add("s", "signature=1&access_key=2&tonce=3", "1", "market", "btcusd")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, secret, rawQuery, signature, key, value string) {
		params, _ := url.ParseQuery(rawQuery) // keeps what parses
		params.Add(key, value)
		payload := Payload("GET", "/api/v2/members/me", params)
		right := Sign(secret, payload)
		if !Verify(secret, payload, right) {
			t.Fatal("Verify rejects Sign's own signature")
		}
		if signature != right && Verify(secret, payload, signature) {
			t.Fatal("Verify accepts a different signature")
		}

		ex := New(Config{Now: func() time.Time { return now }})
		tok := ex.Issue("profile")
		req := signed(tok.AccessToken, "GET", "/api/v2/members/me", strconv.FormatInt(now.UnixMilli(), 10), params)
		rec := httptest.NewRecorder()
		ex.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v2/members/me?"+req.Encode(), nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("correctly signed request: status %d, body %s", rec.Code, rec.Body)
		}

		// The fuzzer's raw query and signature, unsigned: never a panic,
		// never accepted.
		raw := url.Values{}
		for k, v := range params {
			raw[k] = v
		}
		raw.Set("signature", signature)
		rec = httptest.NewRecorder()
		ex.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v2/members/me?"+raw.Encode(), nil))
		if rec.Code == http.StatusOK {
			t.Fatal("a request without a valid key was accepted")
		}
	})
}
