package peatio

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func fixedClock(ms int64) func() time.Time {
	return func() time.Time { return time.UnixMilli(ms) }
}

func TestPeatioSignatureVector(t *testing.T) {
	got := Signature("yyy", "GET|/api/v2/markets|access_key=xxx&foo=bar&tonce=123456789")
	want := "e324059be4491ed8e528aa7b8735af1e96547fbec96db962d51feb7bf1b64dee"
	if got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
}

func TestPeatioSign(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		params   url.Values
		defaults map[string]string
		payload  string // with TONCE standing for the tonce
		query    string // without signature
	}{
		{
			name:    "test vector",
			method:  "GET",
			path:    "/api/v2/markets",
			params:  url.Values{"foo": {"bar"}},
			payload: "GET|/api/v2/markets|access_key=xxx&foo=bar&tonce=TONCE",
			query:   "access_key=xxx&foo=bar&tonce=TONCE",
		},
		{
			name:    "sorted by name",
			method:  "post",
			path:    "/api/v2/orders",
			params:  url.Values{"volume": {"1"}, "market": {"btcusd"}, "side": {"buy"}, "price": {"5"}},
			payload: "POST|/api/v2/orders|access_key=xxx&market=btcusd&price=5&side=buy&tonce=TONCE&volume=1",
			query:   "access_key=xxx&market=btcusd&price=5&side=buy&tonce=TONCE&volume=1",
		},
		{
			name:    "values unescaped in payload, escaped in query",
			method:  "GET",
			path:    "/api/v2/orders",
			params:  url.Values{"state": {"a b&c=d/é"}},
			payload: "GET|/api/v2/orders|access_key=xxx&state=a b&c=d/é&tonce=TONCE",
			query:   "access_key=xxx&state=a+b%26c%3Dd%2F%C3%A9&tonce=TONCE",
		},
		{
			name:     "default params signed, explicit wins",
			method:   "GET",
			path:     "/api/v2/members/me",
			params:   url.Values{"lang": {"de"}},
			defaults: map[string]string{"api_version": "2", "lang": "en"},
			payload:  "GET|/api/v2/members/me|access_key=xxx&api_version=2&lang=de&tonce=TONCE",
			query:    "access_key=xxx&api_version=2&lang=de&tonce=TONCE",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Signer{Now: fixedClock(123456789)}
			got, err := s.Sign(tt.method, tt.path, tt.params, "xxx", "yyy", tt.defaults)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if got.Tonce != 123456789 || got.AccessKey != "xxx" {
				t.Errorf("Sign tonce, key = %d, %q, want 123456789, xxx", got.Tonce, got.AccessKey)
			}
			payload := strings.ReplaceAll(tt.payload, "TONCE", "123456789")
			if want := Signature("yyy", payload); got.Signature != want {
				t.Errorf("Sign signature = %s, want signature of %q", got.Signature, payload)
			}
			wantQ := strings.ReplaceAll(tt.query, "TONCE", "123456789") + "&signature=" + got.Signature
			if got.Query != wantQ {
				t.Errorf("Sign query = %q, want %q", got.Query, wantQ)
			}
		})
	}
}

func TestPeatioSignRefuses(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		params   url.Values
		defaults map[string]string
		ak, sk   string
	}{
		{name: "empty method", path: "/a", ak: "k", sk: "SECRETKEY42"},
		{name: "relative path", method: "GET", path: "api", ak: "k", sk: "SECRETKEY42"},
		{name: "path with query", method: "GET", path: "/a?b=c", ak: "k", sk: "SECRETKEY42"},
		{name: "no secret", method: "GET", path: "/a", ak: "k"},
		{name: "tonce override", method: "GET", path: "/a", params: url.Values{"tonce": {"1"}}, ak: "k", sk: "SECRETKEY42"},
		{name: "signature override", method: "GET", path: "/a", defaults: map[string]string{"signature": "x"}, ak: "k", sk: "SECRETKEY42"},
		{name: "two values", method: "GET", path: "/a", params: url.Values{"a": {"1", "2"}}, ak: "k", sk: "SECRETKEY42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Signer
			_, err := s.Sign(tt.method, tt.path, tt.params, tt.ak, tt.sk, tt.defaults)
			if err == nil {
				t.Fatalf("Sign(%q, %q) succeeded, want error", tt.method, tt.path)
			}
			if tt.sk != "" && strings.Contains(err.Error(), tt.sk) {
				t.Errorf("error %q holds the secret key", err)
			}
		})
	}
}

func TestPeatioTonceMonotonicConcurrent(t *testing.T) {
	s := &Signer{Now: fixedClock(1_700_000_000_000)} // a frozen clock forces last+1
	const n = 100
	tonces := make(chan int64, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, key := range []string{"ak1", "ak2"} {
				q, err := s.Sign("GET", "/api/v2/markets", url.Values{"i": {fmt.Sprint(i)}}, key, "sk", nil)
				if err != nil {
					t.Errorf("Sign: %v", err)
					return
				}
				if key == "ak1" {
					tonces <- q.Tonce
				}
			}
		}()
	}
	wg.Wait()
	close(tonces)
	seen := map[int64]bool{}
	for tn := range tonces {
		if seen[tn] {
			t.Fatalf("tonce %d handed out twice", tn)
		}
		seen[tn] = true
	}
	if len(seen) != n {
		t.Fatalf("got %d tonces, want %d", len(seen), n)
	}
	for i := range int64(n) {
		if !seen[1_700_000_000_000+i] {
			t.Errorf("tonce %d missing: tonces are not max(now, last+1)", 1_700_000_000_000+i)
		}
	}
	// Another key has its own sequence, starting at now.
	q, _ := s.Sign("GET", "/x", nil, "ak3", "sk", nil)
	if q.Tonce != 1_700_000_000_000 {
		t.Errorf("first tonce of a new key = %d, want now", q.Tonce)
	}
}

func TestPeatioObserveError(t *testing.T) {
	const local = 1_700_000_000_000
	tests := []struct {
		name   string
		body   string
		ok     bool
		offset time.Duration
	}{
		{"peatio message", `{"error":{"code":2007,"message":"The tonce 1699999000000 is invalid, current timestamp is 1700000090000"}}`, true, 90 * time.Second},
		{"server behind", `{"error":{"code":2007,"message":"tonce invalid, server time 1699999940000 ms"}}`, true, -60 * time.Second},
		{"fakeexchange format", `{"error":{"code":2007,"message":"tonce 1699999000000 is out of range, server time is 1700000090000"}}`, true, 90 * time.Second},
		{"only number", `{"error":{"code":2007,"message":"1700000001000"}}`, true, time.Second},
		{"other code", `{"error":{"code":2010,"message":"expired 1700000090000"}}`, false, 0},
		{"no time", `{"error":{"code":2007,"message":"bad tonce"}}`, false, 0},
		{"not json", `<html>`, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Signer{Now: fixedClock(local)}
			if got := s.ObserveError([]byte(tt.body)); got != tt.ok {
				t.Fatalf("ObserveError(%s) = %v, want %v", tt.body, got, tt.ok)
			}
			if got := s.Offset(); got != tt.offset {
				t.Errorf("Offset() = %v, want %v", got, tt.offset)
			}
			q, _ := s.Sign("GET", "/a", nil, "k", "s", nil)
			if want := local + tt.offset.Milliseconds(); q.Tonce != want {
				t.Errorf("tonce after offset = %d, want %d", q.Tonce, want)
			}
		})
	}
}

func TestPeatioObserveErrorRestartsAheadClock(t *testing.T) {
	local := int64(1_700_000_000_000)
	s := &Signer{Now: func() time.Time { return time.UnixMilli(local) }}
	for range 3 {
		s.Sign("GET", "/a", nil, "k", "s", nil)
	}
	// The server is 5 minutes behind: every tonce so far was out of range.
	server := local - 5*60*1000
	if !s.ObserveError([]byte(fmt.Sprintf(`{"error":{"code":2007,"message":"tonce 1 is out of range, server time is %d"}}`, server))) {
		t.Fatal("ObserveError did not take the 2007 answer")
	}
	q, _ := s.Sign("GET", "/a", nil, "k", "s", nil)
	if q.Tonce != server {
		t.Errorf("tonce after correction = %d, want server time %d", q.Tonce, server)
	}
	q2, _ := s.Sign("GET", "/a", nil, "k", "s", nil)
	if q2.Tonce <= q.Tonce {
		t.Errorf("tonce went back: %d after %d", q2.Tonce, q.Tonce)
	}
}
