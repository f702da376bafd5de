package oauthflow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

var tokenNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseTokenResponse(t *testing.T) {
	peatio := tokenSpec{format: relayproto.FormatPeatio, lifetime: 4 * time.Hour, requested: []string{"profile", "trade"}, now: tokenNow}
	bearer := tokenSpec{format: relayproto.FormatBearer, requested: []string{"read"}, now: tokenNow}
	tests := []struct {
		name     string
		spec     tokenSpec
		body     string
		ak, sk   string
		access   string
		expiry   time.Time
		granted  []string
		refresh  string
		wantErr  bool
		errLeaks string // a secret that must not appear in the error
	}{
		{
			name: "peatio relay answer", spec: peatio,
			body: `{"access_token":"AK1:SK1","token_type":"Bearer","expires_in":7200,"scope":"profile history","refresh":"BLOB"}`,
			ak:   "AK1", sk: "SK1", access: "AK1:SK1", expiry: tokenNow.Add(2 * time.Hour), granted: []string{"profile", "history"}, refresh: "BLOB",
		},
		{
			name: "peatio split on first colon, default lifetime, requested scopes", spec: peatio,
			body: `{"access_token":"AK1:SK:1","token_type":"Bearer"}`,
			ak:   "AK1", sk: "SK:1", access: "AK1:SK:1", expiry: tokenNow.Add(4 * time.Hour), granted: []string{"profile", "trade"},
		},
		{
			name: "bearer rfc 6749 answer with string expires_in", spec: bearer,
			body:   `{"access_token":"tok","token_type":"bearer","expires_in":"60","refresh_token":"rt"}`,
			access: "tok", expiry: tokenNow.Add(time.Minute), granted: []string{"read"}, refresh: "rt",
		},
		{
			name: "bearer without lifetime has no expiry", spec: bearer,
			body: `{"access_token":"tok","scope":"  read   write "}`, access: "tok", granted: []string{"read", "write"},
		},
		{name: "peatio without colon", spec: peatio, body: `{"access_token":"AKSECRETONLY"}`, wantErr: true, errLeaks: "AKSECRETONLY"},
		{name: "peatio empty secret", spec: peatio, body: `{"access_token":"AK:"}`, wantErr: true},
		{name: "no access token", spec: bearer, body: `{"token_type":"bearer"}`, wantErr: true},
		{name: "mac token", spec: bearer, body: `{"access_token":"tok","token_type":"mac"}`, wantErr: true},
		{name: "negative expires_in", spec: bearer, body: `{"access_token":"tok","expires_in":-5}`, wantErr: true},
		{name: "fractional expires_in", spec: bearer, body: `{"access_token":"tok","expires_in":1.5}`, wantErr: true},
		{name: "not json", spec: bearer, body: `access_token=SECRETTOK`, wantErr: true, errLeaks: "SECRETTOK"},
		{name: "trailing data", spec: bearer, body: `{"access_token":"tok"} {}`, wantErr: true},
		{name: "array", spec: bearer, body: `[]`, wantErr: true},
		{name: "unknown format", spec: tokenSpec{format: "mac"}, body: `{"access_token":"tok"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := parseTokenResponse([]byte(tt.body), tt.spec)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseTokenResponse(%s) succeeded, want error", tt.body)
				}
				if tt.errLeaks != "" && strings.Contains(err.Error(), tt.errLeaks) {
					t.Errorf("error %q holds a secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTokenResponse(%s): %v", tt.body, err)
			}
			if tok.AccessToken != tt.access || tok.AccessKey != tt.ak || tok.SecretKey != tt.sk {
				t.Errorf("keys = %q %q %q, want %q %q %q", tok.AccessToken, tok.AccessKey, tok.SecretKey, tt.access, tt.ak, tt.sk)
			}
			if !tok.Expiry.Equal(tt.expiry) {
				t.Errorf("Expiry = %v, want %v", tok.Expiry, tt.expiry)
			}
			if !slices.Equal(tok.ScopesGranted, tt.granted) {
				t.Errorf("ScopesGranted = %q, want %q", tok.ScopesGranted, tt.granted)
			}
			if !slices.Equal(tok.ScopesRequested, tt.spec.requested) {
				t.Errorf("ScopesRequested = %q, want %q", tok.ScopesRequested, tt.spec.requested)
			}
			if tok.RefreshCredential != tt.refresh || tok.TokenType != tt.spec.format {
				t.Errorf("Refresh, TokenType = %q, %q, want %q, %q", tok.RefreshCredential, tok.TokenType, tt.refresh, tt.spec.format)
			}
		})
	}
}

func TestTokenPrintsNoSecret(t *testing.T) {
	tok := &Token{TokenType: relayproto.FormatPeatio, AccessToken: "AKX:SKSECRET", AccessKey: "AKX", SecretKey: "SKSECRET", RefreshCredential: "REFRESHBLOB"}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok)} {
		if strings.Contains(s, "SKSECRET") || strings.Contains(s, "REFRESHBLOB") {
			t.Errorf("printed token %q holds a secret", s)
		}
	}
}

// FuzzParseTokenResponse checks that a parsed token always has an access
// token, peatio keys that rebuild it, and that errors never quote the body.
func FuzzParseTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"AK1:SK1","expires_in":7200,"scope":"profile history","refresh":"BLOB"}`,
		`{"access_token":"tok","token_type":"bearer","expires_in":"60"}`,
		`{"access_token":"AK1:"}`, `[]`, `{"expires_in":1e99}`, `null`,
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, peatio bool) {
		spec := tokenSpec{format: relayproto.FormatBearer, lifetime: time.Hour, requested: []string{"a"}, now: tokenNow}
		if peatio {
			spec.format = relayproto.FormatPeatio
		}
		tok, err := parseTokenResponse(body, spec)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v does not wrap ErrBadResponse", err)
			}
			return
		}
		if tok.AccessToken == "" || tok.Expiry.Before(tokenNow) || len(tok.ScopesGranted) == 0 {
			t.Fatalf("bad token accepted: %v", tok)
		}
		if peatio && tok.AccessKey+":"+tok.SecretKey != tok.AccessToken {
			t.Fatalf("peatio keys do not rebuild the access token")
		}
	})
}
