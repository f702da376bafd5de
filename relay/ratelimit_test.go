package relay

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

// limitTo makes the fixture's next relays allow perMinute requests a minute per client.
func (f *fixture) limitTo(perMinute string, extra string) {
	f.mutate = func(s string) string {
		return strings.Replace(s, "rate_per_minute = 100000", "rate_per_minute = "+perMinute+"\n"+extra, 1)
	}
}

// getFrom sends GET path with the X-Forwarded-For lines xff and returns the answer.
func (f *fixture) getFrom(u string, xff ...string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, h := range xff {
		req.Header.Add("X-Forwarded-For", h)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestRateLimitThenRecovery(t *testing.T) {
	f := newFixture(t)
	f.limitTo("3", "")
	_, relayURL := f.newRelay()
	providers := relayURL + "/v1/providers"
	for i := range 3 {
		if resp, body := f.getFrom(providers); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d = %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := f.getFrom(providers)
	e := wantError(t, resp.StatusCode, body, http.StatusTooManyRequests, "rate_limited")
	if e.Source != relayproto.SourceRelay {
		t.Errorf("source = %q, want relay", e.Source)
	}
	// 3 a minute: one request back every 20 s.
	if got := resp.Header.Get("Retry-After"); got != "20" {
		t.Errorf("Retry-After = %q, want 20", got)
	}
	if resp, _ := f.getFrom(relayURL + "/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("healthz while limited = %d, want 200 (health checks are not limited)", resp.StatusCode)
	}

	f.clock.Advance(19 * time.Second)
	resp, body = f.getFrom(providers)
	wantError(t, resp.StatusCode, body, http.StatusTooManyRequests, "rate_limited")
	if got := resp.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After after 19 s = %q, want 1", got)
	}
	f.clock.Advance(time.Second)
	if resp, body := f.getFrom(providers); resp.StatusCode != http.StatusOK {
		t.Fatalf("after 20 s = %d %s, want 200", resp.StatusCode, body)
	}
	resp, body = f.getFrom(providers)
	wantError(t, resp.StatusCode, body, http.StatusTooManyRequests, "rate_limited")

	f.clock.Advance(time.Hour) // the bucket holds at most its burst
	for i := range 3 {
		if resp, body := f.getFrom(providers); resp.StatusCode != http.StatusOK {
			t.Fatalf("after refill, request %d = %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body = f.getFrom(providers)
	wantError(t, resp.StatusCode, body, http.StatusTooManyRequests, "rate_limited")
}

func TestRateLimitCountsCallback(t *testing.T) {
	f := newFixture(t)
	f.limitTo("2", "")
	_, relayURL := f.newRelay()
	authorizeURL := f.authorize(relayURL, f.authorizeRequest(newDevice()))                  // 1
	if resp, _ := f.getFrom(relayURL + "/v1/providers"); resp.StatusCode != http.StatusOK { // 2
		t.Fatalf("providers = %d", resp.StatusCode)
	}
	resp := f.get(authorizeURL)
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("provider authorize = %d, %v", resp.StatusCode, err)
	}
	resp, body := f.getFrom(cb.String()) // 3: over the limit
	wantError(t, resp.StatusCode, body, http.StatusTooManyRequests, "rate_limited")
	if n := f.ex.Calls("/oauth/token"); n != 0 {
		t.Errorf("a limited callback called the provider %d times", n)
	}
}

func TestRateLimitForwardedFor(t *testing.T) {
	tests := []struct {
		name        string
		behindProxy bool
		// xffs are the X-Forwarded-For header of each request, all from 127.0.0.1.
		xffs []string
		want []int
	}{
		{"no proxy: header ignored", false,
			[]string{"198.51.100.1", "198.51.100.2", "198.51.100.3"}, []int{200, 200, 429}},
		{"proxy: each client its own bucket", true,
			[]string{"198.51.100.1", "198.51.100.2", "198.51.100.1", "198.51.100.1"}, []int{200, 200, 200, 429}},
		{"proxy: only the right-most hop counts", true,
			[]string{"1.1.1.1, 198.51.100.7", "2.2.2.2, 198.51.100.7", "3.3.3.3, 198.51.100.7"}, []int{200, 200, 429}},
		{"proxy: one /64 is one client", true,
			[]string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2:abcd::", "2001:db8:1:3::1"}, []int{200, 200, 429, 200}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			extra := ""
			if tc.behindProxy {
				extra = "behind_proxy = true"
			}
			f.limitTo("2", extra)
			_, relayURL := f.newRelay()
			for i, xff := range tc.xffs {
				resp, body := f.getFrom(relayURL+"/v1/providers", xff)
				if resp.StatusCode != tc.want[i] {
					t.Fatalf("request %d (X-Forwarded-For %q) = %d %s, want %d", i+1, xff, resp.StatusCode, body, tc.want[i])
				}
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct {
		name        string
		remote      string
		xff         []string
		behindProxy bool
		want        string
	}{
		{"ipv4 peer", "203.0.113.5:4711", nil, false, "203.0.113.5"},
		{"ipv6 peer grouped by /64", "[2001:db8:a:b:c:d:e:f]:443", nil, false, "2001:db8:a:b::/64"},
		{"ipv6 zone dropped", "[fe80::1%eth0]:443", nil, false, "fe80::/64"},
		{"v4-mapped is ipv4", "[::ffff:203.0.113.5]:1", nil, false, "203.0.113.5"},
		{"xff ignored without proxy", "203.0.113.5:1", []string{"198.51.100.1"}, false, "203.0.113.5"},
		{"xff right-most hop", "10.0.0.2:1", []string{"1.2.3.4, 198.51.100.1"}, true, "198.51.100.1"},
		{"xff last of several lines", "10.0.0.2:1", []string{"1.2.3.4", "5.6.7.8,198.51.100.2"}, true, "198.51.100.2"},
		{"xff hop with port", "10.0.0.2:1", []string{"198.51.100.3:8080"}, true, "198.51.100.3"},
		{"xff ipv6 hop with port", "10.0.0.2:1", []string{"[2001:db8::1]:8080"}, true, "2001:db8::/64"},
		{"xff garbage falls back to the peer", "10.0.0.2:1", []string{"1.2.3.4, unknown"}, true, "10.0.0.2"},
		{"xff empty hop falls back to the peer", "10.0.0.2:1", []string{"1.2.3.4,"}, true, "10.0.0.2"},
		{"no xff behind proxy", "10.0.0.2:1", nil, true, "10.0.0.2"},
		{"unparsable peer", "pipe", nil, false, "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/providers", nil)
			r.RemoteAddr = tc.remote
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := clientKey(r, tc.behindProxy); got != tc.want {
				t.Errorf("clientKey(%q, xff %q, proxy %v) = %q, want %q", tc.remote, tc.xff, tc.behindProxy, got, tc.want)
			}
		})
	}
}

func TestLimiterTableBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := newIPLimiters(1, 3) // one request a minute, three clients remembered
	for _, k := range []string{"a", "b", "c"} {
		if ok, _ := l.allow(k, now); !ok {
			t.Fatalf("first request of %s refused", k)
		}
	}
	if ok, wait := l.allow("a", now); ok || retryAfter(wait) != 60 {
		t.Fatalf("second request of a: allowed %v, retry after %d s; want refused, 60", ok, retryAfter(wait))
	}
	// a was just seen, so d pushes out b, the least recently seen.
	if ok, _ := l.allow("d", now); !ok || l.len() != 3 {
		t.Fatalf("d allowed %v with %d buckets, want true with 3", ok, l.len())
	}
	if ok, _ := l.allow("a", now); ok {
		t.Error("a was forgotten, want b dropped first")
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Error("b still limited, want its bucket dropped")
	}
	for i := range 1000 {
		l.allow(string(rune('e'+i)), now)
	}
	if l.len() != 3 {
		t.Errorf("%d buckets, want at most 3", l.len())
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {19200 * time.Millisecond, 20}, {time.Minute, 60}}
	for _, tc := range tests {
		if got := retryAfter(tc.d); got != tc.want {
			t.Errorf("retryAfter(%s) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "1.2.3.4, 5.6.7.8", "[2001:db8::1]:80", "unknown", "", ",", "::ffff:1.2.3.4", "fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, xff string) {
		a, ok := lastForwardedFor([]string{xff})
		if !ok {
			return
		}
		key := addrKey(a)
		if p, err := netip.ParsePrefix(key); err == nil {
			if p.Bits() != 64 || !p.Addr().Is6() || p.Masked() != p {
				t.Fatalf("key %q of %q is not a masked IPv6 /64", key, xff)
			}
			return
		}
		if k, err := netip.ParseAddr(key); err != nil || !k.Is4() {
			t.Fatalf("key %q of %q is neither an IPv4 address nor an IPv6 /64", key, xff)
		}
	})
}
