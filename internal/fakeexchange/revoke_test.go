package fakeexchange

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// revoke posts token= to /oauth/revoke with the given Authorization header.
func (f *fixture) revoke(t *testing.T, token, authorization string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/oauth/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	status, _, body := f.do(t, req)
	return status, body
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name    string
		token   func(mine, other Token) string
		auth    func(mine, other Token) string
		expire  bool
		wantOK  bool // 200 {} and the grant is dead
		wantErr bool // 403 unauthorized_client and nothing changed
	}{
		{"refresh token", func(m, _ Token) string { return m.RefreshToken }, func(m, _ Token) string { return "Bearer " + m.AccessToken }, false, true, false},
		{"access token", func(m, _ Token) string { return m.AccessToken }, func(m, _ Token) string { return "Bearer " + m.AccessToken }, false, true, false},
		{"no bearer", func(m, _ Token) string { return m.RefreshToken }, func(Token, Token) string { return "" }, false, false, true},
		{"basic instead of bearer", func(m, _ Token) string { return m.RefreshToken }, func(m, _ Token) string { return "Basic " + m.AccessToken }, false, false, true},
		{"bearer of another grant", func(m, _ Token) string { return m.RefreshToken }, func(_, o Token) string { return "Bearer " + o.AccessToken }, false, false, true},
		{"bearer with wrong secret", func(m, _ Token) string { return m.RefreshToken }, func(m, _ Token) string { return "Bearer " + m.AccessToken[:41] + strings.Repeat("x", 40) }, false, false, true},
		{"expired bearer", func(m, _ Token) string { return m.RefreshToken }, func(m, _ Token) string { return "Bearer " + m.AccessToken }, true, false, true},
		{"unknown token", func(Token, Token) string { return "nope" }, func(m, _ Token) string { return "Bearer " + m.AccessToken }, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			mine, other := f.ex.Issue("profile"), f.ex.Issue("profile")
			if tt.expire {
				f.ex.ExpireAllKeys()
			}
			status, body := f.revoke(t, tt.token(mine, other), tt.auth(mine, other))
			switch {
			case tt.wantErr:
				if status != http.StatusForbidden || oauthCode(t, body) != "unauthorized_client" {
					t.Errorf("status %d error %q, want 403 unauthorized_client", status, oauthCode(t, body))
				}
			default:
				if status != http.StatusOK || strings.TrimSpace(string(body)) != "{}" {
					t.Errorf("status %d, want 200 {}", status)
				}
			}
			// Is my grant dead? Its refresh token tells, even after expiry.
			status, _ = f.postForm(t, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {mine.RefreshToken}},
				"tokentray-demo", "demo-client-secret")
			if dead := status != http.StatusOK; dead != tt.wantOK {
				t.Errorf("grant dead = %v, want %v", dead, tt.wantOK)
			}
			if tt.wantOK {
				status, body := f.apiGet(t, mine.AccessToken, "/api/v2/members/me", nil)
				if status != http.StatusUnauthorized || apiCode(t, body) != CodeUnknownKey {
					t.Errorf("revoked key: status %d code %d, want 401 2008", status, apiCode(t, body))
				}
			}
			// The other grant is never touched.
			if !tt.expire {
				if status, _ := f.apiGet(t, other.AccessToken, "/api/v2/members/me", nil); status != http.StatusOK {
					t.Errorf("other grant's key: status %d, want 200", status)
				}
			}
		})
	}
}
