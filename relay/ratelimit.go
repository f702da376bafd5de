package relay

import (
	"container/list"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiters bounds the per-client limiter table. When it is full the least recently
// seen client's bucket is dropped; that client starts again with a full bucket.
const maxLimiters = 10000

// ipLimiters is the per-client token buckets (x/time/rate), at most max of them, the
// least recently used dropped first. It is safe for concurrent use.
type ipLimiters struct {
	limit rate.Limit
	burst int
	max   int

	mu sync.Mutex
	// guarded by mu:
	lru   *list.List // of *ipBucket, most recent at the front
	byKey map[string]*list.Element
}

type ipBucket struct {
	key string
	lim *rate.Limiter
}

// newIPLimiters allows perMinute requests a minute per client, in bursts of perMinute.
func newIPLimiters(perMinute, max int) *ipLimiters {
	return &ipLimiters{
		limit: rate.Limit(float64(perMinute) / 60),
		burst: perMinute,
		max:   max,
		lru:   list.New(),
		byKey: map[string]*list.Element{},
	}
}

// allow takes one token from key's bucket at now. When the bucket is empty it reports
// false and how long until a token is back.
func (l *ipLimiters) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *ipBucket
	if el, ok := l.byKey[key]; ok {
		l.lru.MoveToFront(el)
		b = el.Value.(*ipBucket)
	} else {
		if l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			l.lru.Remove(oldest)
			delete(l.byKey, oldest.Value.(*ipBucket).key)
		}
		b = &ipBucket{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
		l.byKey[key] = l.lru.PushFront(b)
	}
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	missing := 1 - b.lim.TokensAt(now)
	return false, time.Duration(missing / float64(l.limit) * float64(time.Second))
}

// len returns how many clients have a bucket.
func (l *ipLimiters) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// retryAfter is d in whole seconds for a Retry-After header (RFC 9110 §10.2.3), at
// least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// clientKey names the client a request counts against: its IPv4 address, or the /64 of
// its IPv6 address (one subscriber usually holds a whole /64). The address is the TCP
// peer's, or with behindProxy the right-most X-Forwarded-For hop: the one the proxy
// itself appended, since every hop to its left is whatever the client chose to send.
func clientKey(r *http.Request, behindProxy bool) string {
	if behindProxy {
		if a, ok := lastForwardedFor(r.Header.Values("X-Forwarded-For")); ok {
			return addrKey(a)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	return addrKey(a)
}

// lastForwardedFor parses the right-most hop of the X-Forwarded-For header lines. A hop
// may carry a port; anything that is not an address reports false.
func lastForwardedFor(lines []string) (netip.Addr, bool) {
	if len(lines) == 0 {
		return netip.Addr{}, false
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	last = strings.TrimSpace(last)
	if a, err := netip.ParseAddr(last); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(last); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

func addrKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return "unknown"
	}
	return p.String()
}
