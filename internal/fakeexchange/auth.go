package fakeexchange

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Peatio APIv2 error codes, as answered in {"error":{"code":N,"message":M}}.
const (
	CodeBadParam        = 1001 // a parameter is missing or invalid (HTTP 400)
	CodeAuthMissing     = 2001 // access_key, tonce or signature missing (HTTP 401)
	CodeBadSignature    = 2005 // signature does not match (HTTP 401)
	CodeTonceReused     = 2006 // tonce already used with this key (HTTP 401)
	CodeTonceOutOfRange = 2007 // tonce more than TonceWindow from server time (HTTP 401)
	CodeUnknownKey      = 2008 // no such access key (HTTP 401)
	CodeDisabledKey     = 2009 // access key disabled (HTTP 401)
	CodeExpiredKey      = 2010 // access key expired (HTTP 401)
	CodeOutOfScope      = 2011 // key's scopes do not cover the endpoint (HTTP 403)
)

// TonceOutOfRangeFormat is the exact format of the 2007 message:
// fmt.Sprintf(TonceOutOfRangeFormat, tonce, serverMillis), where tonce is
// the tonce as the server parsed it (0 when it is not an integer) and
// serverMillis the server's Unix time in milliseconds, e.g.
// "tonce 123 is out of range, server time is 1700000000000". A client may
// parse the last word to correct its clock offset.
const TonceOutOfRangeFormat = "tonce %d is out of range, server time is %d"

// TonceWindow is how far a tonce may be from the server's clock, either way.
const TonceWindow = 30 * time.Second

const (
	tonceMemory  = 61 * time.Second // how long Peatio remembers a used tonce
	maxFormBytes = 64 << 10
)

// APIError is the body of a Peatio APIv2 error:
// {"error":{"code":N,"message":M}}.
type APIError struct {
	Err struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// apiError is an error answer: HTTP status, code and message.
type apiError struct {
	status  int
	code    int
	message string
}

// write writes the error body.
func (a *apiError) write(w http.ResponseWriter) {
	var body APIError
	body.Err.Code = a.code
	body.Err.Message = a.message
	writeJSON(w, a.status, body)
}

// requestParams returns the request's parameters: the query string and, for
// POST, the form body, whose values replace the query's for the same key
// (as Rack merges them).
func requestParams(w http.ResponseWriter, r *http.Request) (url.Values, *apiError) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, CodeBadParam, "The query string is malformed."}
	}
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return nil, &apiError{http.StatusBadRequest, CodeBadParam, "The request body is malformed."}
		}
		for k, vs := range r.PostForm {
			params[k] = vs
		}
	}
	return params, nil
}

// authenticate verifies a signed APIv2 request as Peatio's Authenticator
// does, in its order: 2001 auth params missing; 2008 unknown key; 2009
// disabled; 2010 expired; 2011 out of scope (the key needs any of scopes);
// 2006 tonce reused (the tonce is remembered 61 s, even when a later check
// fails); 2007 tonce outside ±30 s; 2005 bad signature. Messages never carry
// the key or the signature.
func (e *Exchange) authenticate(r *http.Request, params url.Values, scopes ...string) (*accessKey, *apiError) {
	ak, tonceParam, sig := params.Get("access_key"), params.Get("tonce"), params.Get("signature")
	if ak == "" || tonceParam == "" || sig == "" {
		return nil, &apiError{http.StatusUnauthorized, CodeAuthMissing, "Authorization failed: access_key, tonce and signature are required."}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	k := e.keys[ak]
	switch {
	case k == nil:
		return nil, &apiError{http.StatusUnauthorized, CodeUnknownKey, "The access key does not exist."}
	case k.disabled:
		return nil, &apiError{http.StatusUnauthorized, CodeDisabledKey, "The access key is disabled."}
	case k.expired || !now.Before(k.expiresAt):
		return nil, &apiError{http.StatusUnauthorized, CodeExpiredKey, "The access key has expired."}
	case !k.grant.hasScope(scopes...):
		return nil, &apiError{http.StatusForbidden, CodeOutOfScope, "Requested API is out of access key scopes."}
	}

	tonce, err := strconv.ParseInt(tonceParam, 10, 64)
	if err != nil {
		tonce = 0
	}
	for t, forget := range k.tonces {
		if now.After(forget) {
			delete(k.tonces, t)
		}
	}
	if _, used := k.tonces[tonce]; used {
		return nil, &apiError{http.StatusUnauthorized, CodeTonceReused, fmt.Sprintf("The tonce %d has already been used by this access key.", tonce)}
	}
	k.tonces[tonce] = now.Add(tonceMemory)
	nowMs := now.UnixMilli()
	window := TonceWindow.Milliseconds()
	if tonce < nowMs-window || tonce > nowMs+window {
		return nil, &apiError{http.StatusUnauthorized, CodeTonceOutOfRange, fmt.Sprintf(TonceOutOfRangeFormat, tonce, nowMs)}
	}

	if !Verify(k.secret, Payload(r.Method, r.URL.Path, params), sig) {
		return nil, &apiError{http.StatusUnauthorized, CodeBadSignature, "The signature is incorrect."}
	}
	return k, nil
}
