package fakeexchange

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAuthorize sends arbitrary queries to /oauth/authorize and arbitrary
// forms to /oauth/token and /oauth/revoke. Property: no panic, a redirect
// only ever goes to the registered URI, and no token is ever issued and no
// grant revoked for input that carries no valid code or token.
func FuzzAuthorize(f *testing.F) {
	f.Add(authorizeQuery("profile history", "s").Encode(), 1)
	f.Add("client_id=tokentray-demo&redirect_uri=https%3A%2F%2Frelay.example.com%2Fv1%2Fcallback&response_type=code&scope=admin", 2)
	f.Add("client_id=tokentray-demo&redirect_uri=https%3A%2F%2Fevil.example%2F&response_type=code", 0)
	f.Add("grant_type=authorization_code&code=00&client_id=tokentray-demo&client_secret=demo-client-secret", 1)
	f.Add("grant_type=refresh_token&refresh_token=%00;;&&==", 0)
	f.Add("token=a:b", 2)
	f.Fuzz(func(t *testing.T, query string, approval int) {
		ex := New(Config{RedirectURIs: []string{testRedirect}})
		ex.SetApproval(Approval(approval & 3))
		ex.Issue("profile")

		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/oauth/authorize", nil)
		req.URL.RawQuery = query
		ex.ServeHTTP(rec, req)
		if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, testRedirect+"?") {
			t.Fatalf("redirect to %q, want only %s", loc, testRedirect)
		}

		for _, path := range []string{"/oauth/token", "/oauth/revoke", "/oauth/authorize"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(query))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			ex.ServeHTTP(rec, req)
			if path == "/oauth/token" && rec.Code == http.StatusOK {
				t.Fatal("a token was issued for fuzzed input")
			}
		}
		if ex.LiveKeys() != 1 {
			t.Fatal("fuzzed input changed the live grant")
		}
	})
}
