package fakeexchange

import (
	"net/http"
	"sync"
	"time"
)

// Config configures a simulated exchange. The zero value is usable: every
// field documents its default.
type Config struct {
	// ClientID is the one registered OAuth client. Default "tokentray-demo".
	ClientID string
	// ClientSecret is the client's secret (test data only). Default
	// "demo-client-secret".
	ClientSecret string
	// RedirectURIs are the registered redirect URIs. A request's
	// redirect_uri must equal one of them exactly, port and path included.
	RedirectURIs []string
	// KeyLifetime is how long an access key lives; it is sent as expires_in
	// in seconds. Default 4h.
	KeyLifetime time.Duration
	// Now is the clock used for key expiry, code expiry and the tonce
	// window. Default time.Now.
	Now func() time.Time
	// Member is the account every grant belongs to. Default: SN
	// "ID1A2B3C4D5E", Name "Alice Trader", Email "alice@example.com",
	// Activated true.
	Member Member
}

// Member is the exchange account that /api/v2/members/me describes.
type Member struct {
	SN        string
	Name      string
	Email     string
	Activated bool
}

// Approval is how /oauth/authorize answers a valid request.
type Approval int

const (
	// Manual shows a consent page with Approve and Deny buttons.
	Manual Approval = iota
	// AutoApprove redirects with a code at once.
	AutoApprove
	// AutoDeny redirects with error=access_denied at once.
	AutoDeny
)

// Failure is a fault that FailNext injects in place of normal handling.
type Failure int

const (
	// Fail500 answers HTTP 500 with a plain-text body.
	Fail500 Failure = iota + 1
	// FailHang blocks until the request's context ends (or Close is called).
	FailHang
	// FailNonJSON answers HTTP 200 with an HTML body where JSON is expected.
	FailNonJSON
)

// Exchange is a simulated EXchange: Doorkeeper 1.4 OAuth endpoints and the
// Peatio APIv2 on one http.Handler. Serve it with httptest.NewServer(ex).
//
// All methods are safe for concurrent use; one mutex guards the state.
type Exchange struct {
	cfg     Config
	mux     *http.ServeMux
	closeCh chan struct{} // closed by Close; releases FailHang requests
	once    sync.Once

	mu sync.Mutex
	// mu guards the fields below.
	approval     Approval
	redirectURIs []string
	consents     map[string]*pendingAuth // consent field value -> request
	codes        map[string]*authCode    // authorization code -> grant data
	keys         map[string]*accessKey   // access key (AK) -> key
	refreshes    map[string]*grant       // refresh token -> grant
	failures     []failRule
	calls        map[string]int
	orders       []Order
	nextOrderID  int
}

// New returns a simulated exchange configured by cfg, with defaults filled in.
func New(cfg Config) *Exchange {
	if cfg.ClientID == "" {
		cfg.ClientID = "tokentray-demo"
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = "demo-client-secret"
	}
	if cfg.KeyLifetime <= 0 {
		cfg.KeyLifetime = 4 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Member == (Member{}) {
		cfg.Member = Member{SN: "ID1A2B3C4D5E", Name: "Alice Trader", Email: "alice@example.com", Activated: true}
	}
	e := &Exchange{
		cfg:          cfg,
		closeCh:      make(chan struct{}),
		redirectURIs: append([]string(nil), cfg.RedirectURIs...),
		consents:     make(map[string]*pendingAuth),
		codes:        make(map[string]*authCode),
		keys:         make(map[string]*accessKey),
		refreshes:    make(map[string]*grant),
		calls:        make(map[string]int),
		nextOrderID:  1,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/authorize", e.serveAuthorize)
	mux.HandleFunc("POST /oauth/authorize", e.serveConsent)
	mux.HandleFunc("POST /oauth/token", e.serveToken)
	mux.HandleFunc("POST /oauth/revoke", e.serveRevoke)
	mux.HandleFunc("GET /api/v2/members/me", e.serveMe)
	mux.HandleFunc("GET /api/v2/orders", e.serveOrders)
	mux.HandleFunc("POST /api/v2/orders", e.serveCreateOrder)
	mux.HandleFunc("GET /api/v2/markets", e.serveMarkets)
	mux.HandleFunc("GET /api/v2/trades", e.serveTrades)
	e.mux = mux
	return e
}

// ServeHTTP counts the request under its URL path, applies a failure queued
// by FailNext if one matches, and otherwise serves the endpoint.
func (e *Exchange) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.injectFailure(w, r) {
		return
	}
	e.mux.ServeHTTP(w, r)
}

// SetApproval sets how /oauth/authorize answers from now on.
func (e *Exchange) SetApproval(a Approval) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.approval = a
}

// SetMember makes m the account that consent pages and /members/me show from
// now on: a second sign-in then connects another account.
func (e *Exchange) SetMember(m Member) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg.Member = m
}

// member is the account signed in now.
func (e *Exchange) member() Member {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg.Member
}

// AddRedirectURI registers one more redirect URI (matched exactly).
func (e *Exchange) AddRedirectURI(uri string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.redirectURIs = append(e.redirectURIs, uri)
}

// ExpireAllKeys makes every access key issued so far answer 2010 (expired).
// Keys issued later are unaffected; refresh tokens stay valid.
func (e *Exchange) ExpireAllKeys() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range e.keys {
		k.expired = true
	}
}

// DisableKey marks the access key ak disabled, so it answers 2009, and
// reports whether such a key exists.
func (e *Exchange) DisableKey(ak string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	k, ok := e.keys[ak]
	if ok {
		k.disabled = true
	}
	return ok
}

// LiveKeys returns the number of access keys currently valid: issued, not
// replaced by a refresh, not revoked, disabled or expired.
func (e *Exchange) LiveKeys() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	n := 0
	for _, k := range e.keys {
		if k.live(now) {
			n++
		}
	}
	return n
}

// Calls returns how many requests were seen for the URL path, such as
// "/oauth/token" or "/api/v2/members/me", including failed ones.
func (e *Exchange) Calls(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[path]
}

// Close releases every request held by FailHang. It does not stop any
// server; the Exchange stays usable.
func (e *Exchange) Close() {
	e.once.Do(func() { close(e.closeCh) })
}
