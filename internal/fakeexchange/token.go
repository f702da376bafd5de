package fakeexchange

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// oauthError is Doorkeeper's JSON error body.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// writeJSON writes v as JSON with status and no caching.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeOAuthError writes {"error","error_description"} with status.
func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

// clientCredentials returns the client id and secret of r: HTTP Basic first
// (RFC 6749 §2.3.1; form-encoded or raw), else the client_id and
// client_secret parameters. ok is false when no client id was sent.
func clientCredentials(r *http.Request) (id, secret string, ok bool) {
	if id, secret, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
		if u, err := url.QueryUnescape(secret); err == nil {
			secret = u
		}
		return id, secret, id != ""
	}
	id = r.PostForm.Get("client_id")
	return id, r.PostForm.Get("client_secret"), id != ""
}

// clientValid reports whether id and secret are the registered client's,
// compared in constant time.
func (e *Exchange) clientValid(id, secret string) bool {
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(e.cfg.ClientID))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(e.cfg.ClientSecret))
	return idOK&secretOK == 1
}

// serveToken handles POST /oauth/token (RFC 6749 §4.1.3, §6). Every error is
// HTTP 401 with {"error","error_description"}.
func (e *Exchange) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_request", descInvalidRequest)
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		e.serveCodeGrant(w, r)
	case "refresh_token":
		e.serveRefreshGrant(w, r)
	default:
		writeOAuthError(w, http.StatusUnauthorized, "unsupported_grant_type", descUnsupportedGrant)
	}
}

// serveCodeGrant redeems an authorization code. Checked in order: client
// authentication (invalid_client), code present (invalid_request), code
// known, unexpired and of this client (invalid_grant), redirect_uri equal
// to the authorize request's (invalid_grant). Only success spends the code.
func (e *Exchange) serveCodeGrant(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := clientCredentials(r)
	if !ok || !e.clientValid(id, secret) {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", descInvalidClient)
		return
	}
	code := r.PostForm.Get("code")
	if code == "" {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_request", descInvalidRequest)
		return
	}
	e.mu.Lock()
	c, found := e.codes[code]
	if found && !e.cfg.Now().Before(c.expiresAt) {
		delete(e.codes, code)
		found = false
	}
	if !found || c.clientID != id || c.redirectURI != r.PostForm.Get("redirect_uri") {
		e.mu.Unlock()
		writeOAuthError(w, http.StatusUnauthorized, "invalid_grant", descInvalidGrant)
		return
	}
	delete(e.codes, code)
	tok := e.newGrantLocked(c.scopes)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, tok)
}

// serveRefreshGrant rotates a grant's keys (RFC 6749 §6): a new key pair
// and refresh token; the old key and refresh token die at once. Client
// credentials are optional, as in Doorkeeper 1.4, but checked when sent.
// An unknown, used or revoked refresh token answers invalid_request, which
// is Doorkeeper 1.4's real answer.
func (e *Exchange) serveRefreshGrant(w http.ResponseWriter, r *http.Request) {
	if id, secret, ok := clientCredentials(r); ok && !e.clientValid(id, secret) {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", descInvalidClient)
		return
	}
	refresh := r.PostForm.Get("refresh_token")
	e.mu.Lock()
	g, found := e.refreshes[refresh]
	if refresh == "" || !found {
		e.mu.Unlock()
		writeOAuthError(w, http.StatusUnauthorized, "invalid_request", descInvalidRequest)
		return
	}
	tok := e.rotateLocked(g)
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, tok)
}

// serveRevoke handles POST /oauth/revoke (RFC 7009) the Doorkeeper way:
// token= is the "AK:SK" access token or the refresh token, and the request
// must carry "Authorization: Bearer AK:SK" of a live key of the same grant,
// else 403 unauthorized_client. Revoking kills the whole grant. An unknown
// token answers 200 {} with no effect (RFC 7009 §2.2).
func (e *Exchange) serveRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", descInvalidRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	target := e.grantOfTokenLocked(r.PostForm.Get("token"))
	if target == nil {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	bearer, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	k := e.keyOfTokenLocked(bearer)
	if !found || k == nil || !k.live(e.cfg.Now()) || k.grant != target {
		writeOAuthError(w, http.StatusForbidden, "unauthorized_client", descUnauthorizedRevoke)
		return
	}
	e.killLocked(target)
	writeJSON(w, http.StatusOK, struct{}{})
}

// keyOfTokenLocked returns the key whose "AK:SK" is token, or nil. The
// secret half is compared in constant time. e.mu must be held.
func (e *Exchange) keyOfTokenLocked(token string) *accessKey {
	ak, sk, ok := strings.Cut(token, ":")
	if !ok {
		return nil
	}
	k := e.keys[ak]
	if k == nil || subtle.ConstantTimeCompare([]byte(sk), []byte(k.secret)) != 1 {
		return nil
	}
	return k
}

// grantOfTokenLocked returns the grant of an "AK:SK" access token or a
// refresh token, or nil. e.mu must be held.
func (e *Exchange) grantOfTokenLocked(token string) *grant {
	if k := e.keyOfTokenLocked(token); k != nil {
		return k.grant
	}
	return e.refreshes[token]
}
