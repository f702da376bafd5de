package fakeexchange

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"
)

var keyRe = regexp.MustCompile(`^[A-Za-z0-9]{40}:[A-Za-z0-9]{40}$`)

func TestCodeGrant(t *testing.T) {
	codeForm := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect}}
	}
	withParams := func(form url.Values, id, secret string) url.Values {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
		return form
	}
	tests := []struct {
		name       string
		form       func(code string) url.Values
		user, pass string // Basic auth when user != ""
		wantError  string // "" = success
		wantSpent  bool   // the code no longer redeems afterwards
	}{
		{"params auth", func(c string) url.Values { return withParams(codeForm(c), "tokentray-demo", "demo-client-secret") }, "", "", "", true},
		{"basic auth", codeForm, "tokentray-demo", "demo-client-secret", "", true},
		{"no client auth", codeForm, "", "", "invalid_client", false},
		{"wrong secret params", func(c string) url.Values { return withParams(codeForm(c), "tokentray-demo", "nope") }, "", "", "invalid_client", false},
		{"wrong secret basic", codeForm, "tokentray-demo", "nope", "invalid_client", false},
		{"wrong client basic", codeForm, "other", "demo-client-secret", "invalid_client", false},
		{"missing code", func(string) url.Values { return codeForm("") }, "tokentray-demo", "demo-client-secret", "invalid_request", false},
		{"unknown code", func(string) url.Values { return codeForm("deadbeef") }, "tokentray-demo", "demo-client-secret", "invalid_grant", false},
		{"redirect missing", func(c string) url.Values { f := codeForm(c); f.Del("redirect_uri"); return f }, "tokentray-demo", "demo-client-secret", "invalid_grant", false},
		{"redirect differs", func(c string) url.Values { f := codeForm(c); f.Set("redirect_uri", testRedirect+"/"); return f }, "tokentray-demo", "demo-client-secret", "invalid_grant", false},
		{"bad grant type", func(c string) url.Values { f := codeForm(c); f.Set("grant_type", "password"); return f }, "tokentray-demo", "demo-client-secret", "unsupported_grant_type", false},
		{"no grant type", func(c string) url.Values { f := codeForm(c); f.Del("grant_type"); return f }, "tokentray-demo", "demo-client-secret", "unsupported_grant_type", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			code := f.authCodeFor(t, "profile history")
			status, body := f.postForm(t, "/oauth/token", tt.form(code), tt.user, tt.pass)
			if tt.wantError != "" {
				if status != http.StatusUnauthorized {
					t.Errorf("status = %d, want 401", status)
				}
				if got := oauthCode(t, body); got != tt.wantError {
					t.Errorf("error = %q, want %q", got, tt.wantError)
				}
				if f.ex.LiveKeys() != 0 {
					t.Errorf("LiveKeys = %d after a refusal, want 0", f.ex.LiveKeys())
				}
			} else {
				if status != http.StatusOK {
					t.Fatalf("status = %d, want 200", status)
				}
				tok := decodeToken(t, body)
				if !keyRe.MatchString(tok.AccessToken) {
					t.Error("access_token is not AK:SK of 40 alphanumerics each")
				}
				if tok.TokenType != "urn:peatio:api:v2:token" || tok.ExpiresIn != 14400 || tok.Scope != "profile history" ||
					tok.RefreshToken == "" || tok.CreatedAt != f.clock.Now().Unix() {
					t.Errorf("token fields = %q %d %q %d, want peatio type, 14400, %q, now",
						tok.TokenType, tok.ExpiresIn, tok.Scope, tok.CreatedAt, "profile history")
				}
			}
			// Redeem once more with correct credentials.
			status, body = f.postForm(t, "/oauth/token", codeForm(code), "tokentray-demo", "demo-client-secret")
			if spent := status != http.StatusOK; spent != tt.wantSpent {
				t.Errorf("second redemption status = %d, want spent=%v", status, tt.wantSpent)
			}
			if tt.wantSpent && oauthCode(t, body) != "invalid_grant" {
				t.Errorf("reused code error = %q, want invalid_grant", oauthCode(t, body))
			}
		})
	}
}

func TestCodeExpires(t *testing.T) {
	f := newFixture(t)
	code := f.authCodeFor(t, "profile")
	f.clock.Advance(10*time.Minute + time.Second)
	status, body := f.postForm(t, "/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testRedirect},
	}, "tokentray-demo", "demo-client-secret")
	if status != http.StatusUnauthorized || oauthCode(t, body) != "invalid_grant" {
		t.Errorf("expired code: status %d error %q, want 401 invalid_grant", status, oauthCode(t, body))
	}
}

func TestRefreshRotatesKeys(t *testing.T) {
	f := newFixture(t)
	old := f.redeem(t, f.authCodeFor(t, "profile"))
	if status, _ := f.apiGet(t, old.AccessToken, "/api/v2/members/me", nil); status != http.StatusOK {
		t.Fatalf("first key: status %d, want 200", status)
	}
	refresh := func(token string, user, pass string) (int, []byte) {
		return f.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}, user, pass)
	}
	status, body := refresh(old.RefreshToken, "tokentray-demo", "demo-client-secret")
	if status != http.StatusOK {
		t.Fatalf("refresh status = %d, want 200", status)
	}
	next := decodeToken(t, body)
	if next.AccessToken == old.AccessToken || next.RefreshToken == old.RefreshToken {
		t.Fatal("refresh did not issue a new key pair and refresh token")
	}
	if !keyRe.MatchString(next.AccessToken) || next.Scope != "profile" || next.TokenType != TokenType {
		t.Errorf("refreshed token has wrong shape or scope %q", next.Scope)
	}
	if n := f.ex.LiveKeys(); n != 1 {
		t.Errorf("LiveKeys = %d after refresh, want 1", n)
	}
	// The old key is deleted at once: 2008.
	status, body = f.apiGet(t, old.AccessToken, "/api/v2/members/me", nil)
	if status != http.StatusUnauthorized || apiCode(t, body) != CodeUnknownKey {
		t.Errorf("old key: status %d code %d, want 401 2008", status, apiCode(t, body))
	}
	if status, _ := f.apiGet(t, next.AccessToken, "/api/v2/members/me", nil); status != http.StatusOK {
		t.Errorf("new key: status %d, want 200", status)
	}

	tests := []struct {
		name       string
		token      string
		user, pass string
		wantError  string
	}{
		{"used refresh token", old.RefreshToken, "tokentray-demo", "demo-client-secret", "invalid_request"},
		{"unknown refresh token", "0123abcd", "tokentray-demo", "demo-client-secret", "invalid_request"},
		{"empty refresh token", "", "tokentray-demo", "demo-client-secret", "invalid_request"},
		{"wrong client secret", next.RefreshToken, "tokentray-demo", "nope", "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := refresh(tt.token, tt.user, tt.pass)
			if status != http.StatusUnauthorized || oauthCode(t, body) != tt.wantError {
				t.Errorf("status %d error %q, want 401 %q", status, oauthCode(t, body), tt.wantError)
			}
		})
	}
	// Nothing was lost by the refusals: the current key and refresh work.
	if status, _ := f.apiGet(t, next.AccessToken, "/api/v2/members/me", nil); status != http.StatusOK {
		t.Errorf("current key after refusals: status %d, want 200", status)
	}
	if status, _ := refresh(next.RefreshToken, "", ""); status != http.StatusOK {
		t.Errorf("refresh without client auth: status %d, want 200 (optional in Doorkeeper 1.4)", status)
	}
}

func TestRefreshAfterExpiry(t *testing.T) {
	f := newFixture(t)
	tok := f.ex.Issue("profile", "history")
	f.ex.ExpireAllKeys()
	if n := f.ex.LiveKeys(); n != 0 {
		t.Fatalf("LiveKeys = %d after ExpireAllKeys, want 0", n)
	}
	status, body := f.apiGet(t, tok.AccessToken, "/api/v2/members/me", nil)
	if status != http.StatusUnauthorized || apiCode(t, body) != CodeExpiredKey {
		t.Errorf("expired key: status %d code %d, want 401 2010", status, apiCode(t, body))
	}
	status, body = f.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}},
		"tokentray-demo", "demo-client-secret")
	if status != http.StatusOK {
		t.Fatalf("refresh of an expired key: status %d, want 200", status)
	}
	next := decodeToken(t, body)
	if status, _ := f.apiGet(t, next.AccessToken, "/api/v2/members/me", nil); status != http.StatusOK || f.ex.LiveKeys() != 1 {
		t.Errorf("new key after expiry: status %d, live %d; want 200, 1", status, f.ex.LiveKeys())
	}
}

func TestKeyLifetime(t *testing.T) {
	f := newFixture(t)
	tok := f.ex.Issue()
	f.clock.Advance(4*time.Hour - time.Second)
	if n := f.ex.LiveKeys(); n != 1 {
		t.Fatalf("LiveKeys just before 4h = %d, want 1", n)
	}
	f.clock.Advance(time.Second)
	if n := f.ex.LiveKeys(); n != 0 {
		t.Errorf("LiveKeys at 4h = %d, want 0", n)
	}
	status, body := f.apiGet(t, tok.AccessToken, "/api/v2/members/me", nil)
	if status != http.StatusUnauthorized || apiCode(t, body) != CodeExpiredKey {
		t.Errorf("key at 4h: status %d code %d, want 401 2010", status, apiCode(t, body))
	}
}
