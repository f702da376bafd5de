package fakeexchange

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// codeLifetime is how long an authorization code or a consent page stays
// valid (Doorkeeper's default authorization_code_expires_in).
const codeLifetime = 10 * time.Minute

// pendingAuth is an authorize request waiting on the consent page.
type pendingAuth struct {
	redirectURI string
	scopes      []string
	state       string
	expiresAt   time.Time
}

// authCode is an issued authorization code.
type authCode struct {
	clientID    string
	redirectURI string
	scopes      []string
	expiresAt   time.Time
}

// grant is one authorization: its scopes, its one refresh token and its
// current access key. A dead grant has been revoked.
type grant struct {
	scopes  []string
	refresh string
	key     *accessKey
}

// hasScope reports whether g includes any of the scopes.
func (g *grant) hasScope(scopes ...string) bool {
	for _, want := range scopes {
		for _, s := range g.scopes {
			if s == want {
				return true
			}
		}
	}
	return false
}

// accessKey is a Peatio API key pair; secret is the SK half.
type accessKey struct {
	access    string
	secret    string
	grant     *grant
	expiresAt time.Time
	expired   bool                // set by ExpireAllKeys
	disabled  bool                // set by DisableKey
	tonces    map[int64]time.Time // tonce -> when it may be forgotten
}

// live reports whether k is valid at now.
func (k *accessKey) live(now time.Time) bool {
	return !k.expired && !k.disabled && now.Before(k.expiresAt)
}

// Token is the JSON body of a successful /oauth/token answer.
type Token struct {
	AccessToken  string `json:"access_token"` // "AK:SK"
	TokenType    string `json:"token_type"`   // "urn:peatio:api:v2:token"
	ExpiresIn    int64  `json:"expires_in"`   // seconds
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"` // space-separated
	CreatedAt    int64  `json:"created_at"`
}

// TokenType is the token_type the exchange answers.
const TokenType = "urn:peatio:api:v2:token"

// Issue creates a grant for scopes (default "profile") without the browser
// flow, as if a code had just been redeemed, and returns its token. It is a
// shortcut for tests that start from a connected account.
func (e *Exchange) Issue(scopes ...string) Token {
	if len(scopes) == 0 {
		scopes = []string{"profile"}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.newGrantLocked(scopes)
}

// newGrantLocked creates a grant with a fresh key pair and refresh token.
// e.mu must be held.
func (e *Exchange) newGrantLocked(scopes []string) Token {
	g := &grant{scopes: append([]string(nil), scopes...)}
	return e.rotateLocked(g)
}

// rotateLocked gives g a new key pair and refresh token, deleting the old
// ones at once, and returns the token answer. e.mu must be held.
func (e *Exchange) rotateLocked(g *grant) Token {
	if g.key != nil {
		delete(e.keys, g.key.access)
	}
	if g.refresh != "" {
		delete(e.refreshes, g.refresh)
	}
	now := e.cfg.Now()
	k := &accessKey{
		access:    randomAlnum(40),
		secret:    randomAlnum(40),
		grant:     g,
		expiresAt: now.Add(e.cfg.KeyLifetime),
		tonces:    make(map[int64]time.Time),
	}
	g.key = k
	g.refresh = randomHex(32)
	e.keys[k.access] = k
	e.refreshes[g.refresh] = g
	return Token{
		AccessToken:  k.access + ":" + k.secret,
		TokenType:    TokenType,
		ExpiresIn:    int64(e.cfg.KeyLifetime / time.Second),
		RefreshToken: g.refresh,
		Scope:        strings.Join(g.scopes, " "),
		CreatedAt:    now.Unix(),
	}
}

// killLocked revokes g: its key and its refresh token stop working.
// e.mu must be held.
func (e *Exchange) killLocked(g *grant) {
	if g.key != nil {
		delete(e.keys, g.key.access)
		g.key = nil
	}
	delete(e.refreshes, g.refresh)
	g.refresh = ""
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlnum returns n random characters of [A-Za-z0-9], uniformly.
func randomAlnum(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		rand.Read(buf)
		for _, c := range buf {
			if c >= 248 { // 248 = 4*62: reject to stay uniform
				continue
			}
			out = append(out, alnum[int(c)%len(alnum)])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}

// randomHex returns n random bytes, hex encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
