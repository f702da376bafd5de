package localapi

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/localclient"
)

// TestKeyAnswer checks that the token answer built in locked memory decodes
// to the key, whatever bytes the key holds, and is longer than net/http's
// response buffer.
func TestKeyAnswer(t *testing.T) {
	tests := []struct {
		name, format, key string
		want              localclient.Token
	}{
		{"peatio", "peatio", "AK1:SK1", localclient.Token{AccessKey: "AK1", SecretKey: "SK1"}},
		{"peatio escapes", "peatio", "a\"k:s\\k\n\x01\x7f", localclient.Token{AccessKey: "a\"k", SecretKey: "s\\k\n\x01\x7f"}},
		{"invalid utf-8", "peatio", "ak:\xff\xfeé", localclient.Token{AccessKey: "ak", SecretKey: "\ufffd\ufffdé"}},
		{"bearer", "bearer", "tok.en:with:colons", localclient.Token{AccessToken: "tok.en:with:colons"}},
		{"long key", "bearer", strings.Repeat("x", 5000), localclient.Token{AccessToken: strings.Repeat("x", 5000)}},
	}
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := newKeyAnswer(agent.KeyView{TokenType: tt.format, ExpiresAt: exp, Scopes: []string{"trade"}, Generation: 7, Key: []byte(tt.key)})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			rec := httptest.NewRecorder()
			a.writeTo(rec)
			body := rec.Body.Bytes()
			if len(body) <= 2048 {
				t.Errorf("answer of %d bytes, want more than net/http's 2048-byte buffer", len(body))
			}
			var got localclient.Token
			dec := json.NewDecoder(rec.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("decode %q: %v", body, err)
			}
			tt.want.TokenType, tt.want.ExpiresAt, tt.want.Scopes, tt.want.Generation = tt.format, exp, []string{"trade"}, 7
			if got.AccessKey != tt.want.AccessKey || got.SecretKey != tt.want.SecretKey || got.AccessToken != tt.want.AccessToken ||
				got.TokenType != tt.want.TokenType || !got.ExpiresAt.Equal(exp) || got.Generation != 7 || len(got.Scopes) != 1 {
				t.Errorf("answer decodes to %+v, want %+v", got, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}
