package fakeexchange

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testRedirect = "https://relay.example.com/v1/callback"

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is an exchange behind a real httptest server with a settable
// clock and a client that does not follow redirects and keeps no cookies.
type fixture struct {
	ex     *Exchange
	srv    *httptest.Server
	clock  *clock
	client *http.Client
	seq    atomic.Int64 // makes each apiGet's tonce unique
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ex := New(Config{RedirectURIs: []string{testRedirect}, Now: c.Now})
	srv := httptest.NewServer(ex)
	t.Cleanup(func() {
		ex.Close()
		srv.Close()
	})
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &fixture{ex: ex, srv: srv, clock: c, client: client}
}

// do sends req and returns the status, headers and body.
func (f *fixture) do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, body
}

// post posts form to path with optional Basic auth (user != "") and
// returns the status, headers and body.
func (f *fixture) post(t *testing.T, path string, form url.Values, user, pass string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return f.do(t, req)
}

// postForm is post without the headers.
func (f *fixture) postForm(t *testing.T, path string, form url.Values, user, pass string) (int, []byte) {
	t.Helper()
	status, _, body := f.post(t, path, form, user, pass)
	return status, body
}

// get sends GET path?query.
func (f *fixture) get(t *testing.T, path string, query url.Values) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path+"?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, req)
}

// tonce returns the fixture clock's time in Unix ms, shifted by d.
func (f *fixture) tonce(d time.Duration) string {
	return strconv.FormatInt(f.clock.Now().Add(d).UnixMilli(), 10)
}

// signed returns params plus access_key, tonce and a correct signature for
// method and path under the "AK:SK" token.
func signed(token, method, path, tonce string, params url.Values) url.Values {
	ak, sk, _ := strings.Cut(token, ":")
	out := url.Values{}
	for k, v := range params {
		out[k] = v
	}
	out.Set("access_key", ak)
	out.Set("tonce", tonce)
	out.Set("signature", Sign(sk, Payload(method, path, out)))
	return out
}

// apiGet sends a correctly signed GET to an APIv2 path.
func (f *fixture) apiGet(t *testing.T, token, path string, params url.Values) (int, []byte) {
	t.Helper()
	tonce := f.tonce(time.Duration(f.seq.Add(1)) * time.Millisecond)
	status, _, body := f.get(t, path, signed(token, http.MethodGet, path, tonce, params))
	return status, body
}

// apiCode decodes a Peatio error body and returns its code (0 if none).
func apiCode(t *testing.T, body []byte) int {
	t.Helper()
	var e APIError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	return e.Err.Code
}

// oauthCode decodes a Doorkeeper error body and returns its error field.
func oauthCode(t *testing.T, body []byte) string {
	t.Helper()
	var e oauthError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	return e.Error
}

// decodeToken decodes a token answer.
func decodeToken(t *testing.T, body []byte) Token {
	t.Helper()
	var tok Token
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatalf("token body is not JSON: %v", err)
	}
	return tok
}

// authorizeQuery is a valid authorize request for scopes.
func authorizeQuery(scope, state string) url.Values {
	return url.Values{
		"client_id":             {"tokentray-demo"},
		"redirect_uri":          {testRedirect},
		"response_type":         {"code"},
		"scope":                 {scope},
		"state":                 {state},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"},
	}
}

// authCodeFor runs an auto-approved authorize request and returns the code.
func (f *fixture) authCodeFor(t *testing.T, scope string) string {
	t.Helper()
	f.ex.SetApproval(AutoApprove)
	status, h, _ := f.get(t, "/oauth/authorize", authorizeQuery(scope, "st"))
	if status != http.StatusFound {
		t.Fatalf("authorize status = %d, want 302", status)
	}
	u, err := url.Parse(h.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("code")
}

// redeem exchanges code with params-style client auth.
func (f *fixture) redeem(t *testing.T, code string) Token {
	t.Helper()
	status, body := f.postForm(t, "/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
		"client_id": {"tokentray-demo"}, "client_secret": {"demo-client-secret"},
	}, "", "")
	if status != http.StatusOK {
		t.Fatalf("redeem status = %d, want 200", status)
	}
	return decodeToken(t, body)
}

// httptestRecorder serves one request to h in process.
func httptestRecorder(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}
