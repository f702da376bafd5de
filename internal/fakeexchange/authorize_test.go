package fakeexchange

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestAuthorizeRejectsWithoutRedirect(t *testing.T) {
	f := newFixture(t)
	f.ex.AddRedirectURI("http://127.0.0.1:8787/v1/callback")
	f.ex.SetApproval(AutoApprove)
	tests := []struct {
		name        string
		clientID    string
		redirectURI string
		wantText    string
	}{
		{"unknown client", "someone-else", testRedirect, "invalid_client"},
		{"empty client", "", testRedirect, "invalid_client"},
		{"unregistered uri", "tokentray-demo", "https://evil.example.com/v1/callback", "invalid_redirect_uri"},
		{"other port", "tokentray-demo", "http://127.0.0.1:8788/v1/callback", "invalid_redirect_uri"},
		{"other path", "tokentray-demo", "https://relay.example.com/v1/callback/x", "invalid_redirect_uri"},
		{"trailing slash", "tokentray-demo", testRedirect + "/", "invalid_redirect_uri"},
		{"extra query", "tokentray-demo", testRedirect + "?a=b", "invalid_redirect_uri"},
		{"other scheme", "tokentray-demo", "http://relay.example.com/v1/callback", "invalid_redirect_uri"},
		{"empty uri", "tokentray-demo", "", "invalid_redirect_uri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authorizeQuery("profile", "st")
			q.Set("client_id", tt.clientID)
			q.Set("redirect_uri", tt.redirectURI)
			status, h, body := f.get(t, "/oauth/authorize", q)
			if status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", status)
			}
			if loc := h.Get("Location"); loc != "" {
				t.Errorf("Location = %q, want none", loc)
			}
			if !strings.Contains(h.Get("Content-Type"), "text/html") || !strings.Contains(string(body), tt.wantText) {
				t.Errorf("body is not an HTML page naming %q", tt.wantText)
			}
		})
	}
}

func TestAuthorizeRedirects(t *testing.T) {
	f := newFixture(t)
	second := "http://127.0.0.1:8787/v1/callback"
	f.ex.AddRedirectURI(second)
	tests := []struct {
		name      string
		approval  Approval
		mutate    func(url.Values)
		wantError string // "" = a code
		wantBase  string
	}{
		{"auto approve", AutoApprove, func(url.Values) {}, "", testRedirect},
		{"second registered uri", AutoApprove, func(q url.Values) { q.Set("redirect_uri", second) }, "", second},
		{"pkce ignored", AutoApprove, func(q url.Values) { q.Set("code_challenge_method", "plain") }, "", testRedirect},
		{"all scopes", AutoApprove, func(q url.Values) { q.Set("scope", "profile history trade") }, "", testRedirect},
		{"auto deny", AutoDeny, func(url.Values) {}, "access_denied", testRedirect},
		{"unknown scope", AutoApprove, func(q url.Values) { q.Set("scope", "profile admin") }, "invalid_scope", testRedirect},
		{"comma scopes", AutoApprove, func(q url.Values) { q.Set("scope", "profile,history") }, "invalid_scope", testRedirect},
		{"bad response type", AutoApprove, func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type", testRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ex.SetApproval(tt.approval)
			q := authorizeQuery("profile history", "s&t=1 /?")
			tt.mutate(q)
			status, h, _ := f.get(t, "/oauth/authorize", q)
			if status != http.StatusFound {
				t.Fatalf("status = %d, want 302", status)
			}
			loc, err := url.Parse(h.Get("Location"))
			if err != nil {
				t.Fatalf("Location does not parse: %v", err)
			}
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != tt.wantBase {
				t.Errorf("redirect base = %q, want %q", got, tt.wantBase)
			}
			lq := loc.Query()
			if got := lq.Get("state"); got != "s&t=1 /?" {
				t.Errorf("state = %q, want it echoed", got)
			}
			if got := lq.Get("error"); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
			if tt.wantError == "" && len(lq.Get("code")) != 64 {
				t.Errorf("code has length %d, want 64", len(lq.Get("code")))
			}
			if tt.wantError != "" && lq.Get("code") != "" {
				t.Error("error redirect carries a code")
			}
		})
	}
}

func TestAuthorizeDeniedDescription(t *testing.T) {
	f := newFixture(t)
	f.ex.SetApproval(AutoDeny)
	_, h, _ := f.get(t, "/oauth/authorize", authorizeQuery("profile", "xyz"))
	want := testRedirect + "?error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request.&state=xyz"
	if got := h.Get("Location"); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
}

var (
	consentRe = regexp.MustCompile(`<input type="hidden" name="consent" value="([0-9a-f]{64})">`)
	approveRe = regexp.MustCompile(`<button type="submit" name="decision" value="approve">`)
	denyRe    = regexp.MustCompile(`<button type="submit" name="decision" value="deny">`)
	formRe    = regexp.MustCompile(`<form method="post" action="/oauth/authorize">`)
)

// consentPage loads the consent page and returns its consent value.
func (f *fixture) consentPage(t *testing.T, state string) string {
	t.Helper()
	f.ex.SetApproval(Manual)
	status, h, body := f.get(t, "/oauth/authorize", authorizeQuery("profile trade", state))
	if status != http.StatusOK {
		t.Fatalf("consent page status = %d, want 200", status)
	}
	page := string(body)
	for _, re := range []*regexp.Regexp{formRe, approveRe, denyRe} {
		if !re.MatchString(page) {
			t.Fatalf("consent page lacks %s", re)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'none'", csp)
	}
	m := consentRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("consent page has no consent field")
	}
	return m[1]
}

func TestConsentPage(t *testing.T) {
	tests := []struct {
		name      string
		decision  string
		wantError string
	}{
		{"approve", "approve", ""},
		{"deny", "deny", "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			consent := f.consentPage(t, "st8")
			status, h, _ := f.post(t, "/oauth/authorize", url.Values{"consent": {consent}, "decision": {tt.decision}}, "", "")
			if status != http.StatusFound {
				t.Fatalf("consent POST status = %d, want 302", status)
			}
			loc, err := url.Parse(h.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			if q.Get("state") != "st8" || q.Get("error") != tt.wantError {
				t.Errorf("redirect state=%q error=%q, want st8 and %q", q.Get("state"), q.Get("error"), tt.wantError)
			}
			if tt.wantError == "" {
				tok := f.redeem(t, q.Get("code"))
				if tok.Scope != "profile trade" {
					t.Errorf("scope = %q, want %q", tok.Scope, "profile trade")
				}
			}
			// The consent field is single use.
			status, _ = f.postForm(t, "/oauth/authorize", url.Values{"consent": {consent}, "decision": {"approve"}}, "", "")
			if status != http.StatusBadRequest {
				t.Errorf("reused consent status = %d, want 400", status)
			}
		})
	}
}

func TestConsentRejects(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		form      func(consent string) url.Values
		advance   bool
		wantSpent bool
	}{
		{"unknown consent", func(string) url.Values { return url.Values{"consent": {"00"}, "decision": {"approve"}} }, false, false},
		{"missing decision", func(c string) url.Values { return url.Values{"consent": {c}} }, false, false},
		{"odd decision", func(c string) url.Values { return url.Values{"consent": {c}, "decision": {"maybe"}} }, false, false},
		{"expired", func(c string) url.Values { return url.Values{"consent": {c}, "decision": {"approve"}} }, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			consent := f.consentPage(t, "s")
			if tt.advance {
				f.clock.Advance(codeLifetime + 1)
			}
			status, _ := f.postForm(t, "/oauth/authorize", tt.form(consent), "", "")
			if status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", status)
			}
			// A rejected POST without a valid decision does not spend the consent.
			status, _ = f.postForm(t, "/oauth/authorize", url.Values{"consent": {consent}, "decision": {"approve"}}, "", "")
			if want := map[bool]int{false: http.StatusFound, true: http.StatusBadRequest}[tt.wantSpent]; status != want {
				t.Errorf("consent after rejection: status = %d, want %d", status, want)
			}
		})
	}
}

func TestConsentPageEscapes(t *testing.T) {
	ex := New(Config{
		ClientID:     `<script>alert(1)</script>`,
		RedirectURIs: []string{testRedirect},
		Member:       Member{SN: "X", Email: `"><img src=x onerror=alert(2)>`, Activated: true},
	})
	q := authorizeQuery("profile", "s")
	q.Set("client_id", `<script>alert(1)</script>`)
	rec := httptestRecorder(ex, http.MethodGet, "/oauth/authorize?"+q.Encode())
	page := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Error("page does not show the escaped client name")
	}
}
