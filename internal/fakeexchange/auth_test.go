package fakeexchange

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// apiRequest is one APIv2 call a test case builds.
type apiRequest struct {
	method, path string
	query, form  url.Values
}

// send sends r: query in the URL, form (if any) as the body.
func (f *fixture) send(t *testing.T, r apiRequest) (int, []byte) {
	t.Helper()
	var body *strings.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(r.method, f.srv.URL+r.path+"?"+r.query.Encode(), body)
	if err != nil {
		t.Fatal(err)
	}
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	status, _, b := f.do(t, req)
	return status, b
}

func TestAPIAuthErrors(t *testing.T) {
	const me = "/api/v2/members/me"
	get := func(q url.Values) apiRequest { return apiRequest{method: http.MethodGet, path: me, query: q} }
	tonce := func(f *fixture, d time.Duration) string { return f.tonce(d) }
	tests := []struct {
		name       string
		build      func(f *fixture) apiRequest
		wantStatus int
		wantCode   int // 0 = success
	}{
		{"signed", func(f *fixture) apiRequest {
			return get(signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), nil))
		}, 200, 0},
		{"missing access_key", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), nil)
			q.Del("access_key")
			return get(q)
		}, 401, CodeAuthMissing},
		{"missing tonce", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), nil)
			q.Del("tonce")
			return get(q)
		}, 401, CodeAuthMissing},
		{"missing signature", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), nil)
			q.Del("signature")
			return get(q)
		}, 401, CodeAuthMissing},
		{"unknown key before tonce and signature", func(f *fixture) apiRequest {
			return get(signed("A0000000000000000000000000000000000000Z:x", "GET", me, tonce(f, time.Hour), nil))
		}, 401, CodeUnknownKey},
		{"disabled before expired", func(f *fixture) apiRequest {
			tok := f.ex.Issue()
			f.ex.DisableKey(strings.Split(tok.AccessToken, ":")[0])
			f.ex.ExpireAllKeys()
			q := signed(tok.AccessToken, "GET", me, tonce(f, time.Hour), nil)
			q.Set("signature", "00")
			return get(q)
		}, 401, CodeDisabledKey},
		{"expired before scope", func(f *fixture) apiRequest {
			tok := f.ex.Issue("history")
			f.ex.ExpireAllKeys()
			return get(signed(tok.AccessToken, "GET", me, tonce(f, time.Hour), nil))
		}, 401, CodeExpiredKey},
		{"out of scope before tonce", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue("history", "trade").AccessToken, "GET", me, tonce(f, time.Hour), nil)
			q.Set("signature", "00")
			return get(q)
		}, 403, CodeOutOfScope},
		{"tonce reused before signature", func(f *fixture) apiRequest {
			tok := f.ex.Issue().AccessToken
			q := signed(tok, "GET", me, tonce(f, 0), nil)
			if status, _ := f.send(t, get(q)); status != 200 {
				t.Fatalf("first use: status %d, want 200", status)
			}
			q.Set("signature", "00")
			return get(q)
		}, 401, CodeTonceReused},
		{"bad signature still spends the tonce", func(f *fixture) apiRequest {
			tok := f.ex.Issue().AccessToken
			q := signed(tok, "GET", me, tonce(f, 0), nil)
			bad := signed(tok, "GET", me, tonce(f, 0), nil)
			bad.Set("signature", "00")
			if _, body := f.send(t, get(bad)); apiCode(t, body) != CodeBadSignature {
				t.Fatalf("bad signature: code %d, want 2005", apiCode(t, body))
			}
			return get(q)
		}, 401, CodeTonceReused},
		{"tonce 31s ahead before signature", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 31*time.Second), nil)
			q.Set("signature", "00")
			return get(q)
		}, 401, CodeTonceOutOfRange},
		{"tonce 31s behind", func(f *fixture) apiRequest {
			return get(signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, -31*time.Second), nil))
		}, 401, CodeTonceOutOfRange},
		{"tonce not a number", func(f *fixture) apiRequest {
			return get(signed(f.ex.Issue().AccessToken, "GET", me, "soon", nil))
		}, 401, CodeTonceOutOfRange},
		{"tonce 29s ahead", func(f *fixture) apiRequest {
			return get(signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 29*time.Second), nil))
		}, 200, 0},
		{"tonce 30s behind", func(f *fixture) apiRequest {
			return get(signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, -30*time.Second), nil))
		}, 200, 0},
		{"bad signature", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), nil)
			q.Set("signature", strings.Repeat("0", 64))
			return get(q)
		}, 401, CodeBadSignature},
		{"uppercase signature", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), nil)
			q.Set("signature", strings.ToUpper(q.Get("signature")))
			return get(q)
		}, 401, CodeBadSignature},
		{"signed for another path", func(f *fixture) apiRequest {
			return get(signed(f.ex.Issue().AccessToken, "GET", "/api/v2/markets", tonce(f, 0), nil))
		}, 401, CodeBadSignature},
		{"signed for another method", func(f *fixture) apiRequest {
			return get(signed(f.ex.Issue().AccessToken, "POST", me, tonce(f, 0), nil))
		}, 401, CodeBadSignature},
		{"signed with another secret", func(f *fixture) apiRequest {
			ak, _, _ := strings.Cut(f.ex.Issue().AccessToken, ":")
			return get(signed(ak+":wrong", "GET", me, tonce(f, 0), nil))
		}, 401, CodeBadSignature},
		{"parameter added after signing", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), nil)
			q.Set("foo", "bar")
			return get(q)
		}, 401, CodeBadSignature},
		{"format and route_info are not signed", func(f *fixture) apiRequest {
			q := signed(f.ex.Issue().AccessToken, "GET", me, tonce(f, 0), url.Values{"foo": {"a b&c"}})
			q.Set("format", "json")
			q.Set("route_info", "x")
			return get(q)
		}, 200, 0},
		{"values signed escaped", func(f *fixture) apiRequest {
			tok := f.ex.Issue().AccessToken
			q := signed(tok, "GET", me, tonce(f, 0), url.Values{"foo": {"a+b"}})
			q.Set("foo", "a b")
			return get(q)
		}, 401, CodeBadSignature},
		{"orders needs history or trade", func(f *fixture) apiRequest {
			return apiRequest{method: "GET", path: "/api/v2/orders", query: signed(f.ex.Issue("profile").AccessToken, "GET", "/api/v2/orders", tonce(f, 0), nil)}
		}, 403, CodeOutOfScope},
		{"orders with history", func(f *fixture) apiRequest {
			return apiRequest{method: "GET", path: "/api/v2/orders", query: signed(f.ex.Issue("history").AccessToken, "GET", "/api/v2/orders", tonce(f, 0), nil)}
		}, 200, 0},
		{"orders with trade", func(f *fixture) apiRequest {
			return apiRequest{method: "GET", path: "/api/v2/orders", query: signed(f.ex.Issue("trade").AccessToken, "GET", "/api/v2/orders", tonce(f, 0), nil)}
		}, 200, 0},
		{"create order needs trade", func(f *fixture) apiRequest {
			form := signed(f.ex.Issue("profile", "history").AccessToken, "POST", "/api/v2/orders", tonce(f, 0),
				url.Values{"market": {"btcusd"}, "side": {"buy"}, "volume": {"1"}, "price": {"2"}})
			return apiRequest{method: "POST", path: "/api/v2/orders", form: form}
		}, 403, CodeOutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			status, body := f.send(t, tt.build(f))
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if tt.wantCode == 0 {
				return
			}
			var e APIError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if e.Err.Code != tt.wantCode || e.Err.Message == "" {
				t.Errorf("error = %d %q, want code %d with a message", e.Err.Code, e.Err.Message, tt.wantCode)
			}
		})
	}
}

func TestTonceMessageCarriesServerTime(t *testing.T) {
	f := newFixture(t)
	tok := f.ex.Issue().AccessToken
	q := signed(tok, "GET", "/api/v2/members/me", "123", nil)
	_, body := f.send(t, apiRequest{method: "GET", path: "/api/v2/members/me", query: q})
	var e APIError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("tonce 123 is out of range, server time is %d", f.clock.Now().UnixMilli())
	if e.Err.Message != want {
		t.Errorf("message = %q, want %q", e.Err.Message, want)
	}
	var tonce, server int64
	if _, err := fmt.Sscanf(e.Err.Message, TonceOutOfRangeFormat, &tonce, &server); err != nil || server != f.clock.Now().UnixMilli() {
		t.Errorf("Sscanf(TonceOutOfRangeFormat) = %d, %v; want the server time", server, err)
	}
}

func TestErrorsNeverCarrySecrets(t *testing.T) {
	f := newFixture(t)
	tok := f.ex.Issue()
	ak, sk, _ := strings.Cut(tok.AccessToken, ":")
	f.ex.ExpireAllKeys()
	for _, mutate := range []func(url.Values){
		func(url.Values) {}, // 2010
		func(q url.Values) { q.Set("access_key", ak+"x") }, // 2008
	} {
		q := signed(tok.AccessToken, "GET", "/api/v2/members/me", f.tonce(0), nil)
		mutate(q)
		_, body := f.send(t, apiRequest{method: "GET", path: "/api/v2/members/me", query: q})
		for _, secret := range []string{ak, sk, q.Get("signature"), tok.RefreshToken} {
			if strings.Contains(string(body), secret) {
				t.Error("an error body carries a key, signature or refresh token")
			}
		}
	}
}

func TestTonceForgottenAfter61s(t *testing.T) {
	f := newFixture(t)
	tok := f.ex.Issue().AccessToken
	q := signed(tok, "GET", "/api/v2/members/me", f.tonce(0), nil)
	if status, _ := f.send(t, apiRequest{method: "GET", path: "/api/v2/members/me", query: q}); status != 200 {
		t.Fatalf("first use: status %d", status)
	}
	f.clock.Advance(62 * time.Second)
	// Still refused, but now for its age, not for reuse.
	_, body := f.send(t, apiRequest{method: "GET", path: "/api/v2/members/me", query: q})
	if code := apiCode(t, body); code != CodeTonceOutOfRange {
		t.Errorf("old tonce after 62s: code %d, want 2007", code)
	}
}
