package fakeexchange

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// Doorkeeper 1.4's error descriptions (config/locales/en.yml).
const (
	descInvalidRequest      = "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed."
	descInvalidRedirectURI  = "The redirect uri included is not valid."
	descInvalidClient       = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."
	descInvalidGrant        = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
	descInvalidScope        = "The requested scope is invalid, unknown, or malformed."
	descAccessDenied        = "The resource owner or authorization server denied the request."
	descUnsupportedGrant    = "The authorization grant type is not supported by the authorization server."
	descUnsupportedResponse = "The authorization server does not support this response type."
	descUnauthorizedRevoke  = "You are not authorized to revoke this token"
)

// knownScopes are the scopes the exchange grants, in display order.
var knownScopes = []string{"profile", "history", "trade"}

// scopeDescriptions are shown on the consent page.
var scopeDescriptions = map[string]string{
	"profile": "read your name, email and balances",
	"history": "read your orders and trades",
	"trade":   "place and cancel orders",
}

// parseScopes splits a space-separated scope parameter, drops duplicates and
// reports whether every scope is known. An empty parameter means the
// default scope "profile", as Peatio configures Doorkeeper.
func parseScopes(param string) ([]string, bool) {
	fields := strings.Fields(param)
	if len(fields) == 0 {
		return []string{"profile"}, true
	}
	var out []string
	seen := make(map[string]bool)
	for _, s := range fields {
		known := false
		for _, k := range knownScopes {
			known = known || s == k
		}
		if !known {
			return nil, false
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, true
}

// serveAuthorize handles GET /oauth/authorize. An unknown client_id or an
// unregistered redirect_uri gets an HTML error page (400), never a redirect;
// other errors are redirected to redirect_uri (RFC 6749 §4.1.2.1). PKCE
// parameters are ignored, as Doorkeeper 1.4 does.
func (e *Exchange) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	if subtle.ConstantTimeCompare([]byte(clientID), []byte(e.cfg.ClientID)) != 1 {
		writeErrorPage(w, "invalid_client", descInvalidClient)
		return
	}
	e.mu.Lock()
	registered := false
	for _, u := range e.redirectURIs {
		registered = registered || u == redirectURI
	}
	approval := e.approval
	e.mu.Unlock()
	if !registered {
		writeErrorPage(w, "invalid_redirect_uri", descInvalidRedirectURI)
		return
	}
	if q.Get("response_type") != "code" {
		redirectError(w, r, redirectURI, "unsupported_response_type", descUnsupportedResponse, state)
		return
	}
	scopes, ok := parseScopes(q.Get("scope"))
	if !ok {
		redirectError(w, r, redirectURI, "invalid_scope", descInvalidScope, state)
		return
	}
	switch approval {
	case AutoApprove:
		e.redirectCode(w, r, redirectURI, scopes, state)
	case AutoDeny:
		redirectError(w, r, redirectURI, "access_denied", descAccessDenied, state)
	default:
		consent := randomHex(32)
		e.mu.Lock()
		e.pruneLocked()
		e.consents[consent] = &pendingAuth{
			redirectURI: redirectURI,
			scopes:      scopes,
			state:       state,
			expiresAt:   e.cfg.Now().Add(codeLifetime),
		}
		e.mu.Unlock()
		e.writeConsentPage(w, consent, scopes)
	}
}

// serveConsent handles the consent form: POST /oauth/authorize with the
// single-use consent field and decision=approve|deny.
func (e *Exchange) serveConsent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeErrorPage(w, "invalid_request", descInvalidRequest)
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "approve" && decision != "deny" {
		writeErrorPage(w, "invalid_request", descInvalidRequest)
		return
	}
	consent := r.PostForm.Get("consent")
	e.mu.Lock()
	p, ok := e.consents[consent]
	delete(e.consents, consent)
	e.mu.Unlock()
	if !ok || !e.cfg.Now().Before(p.expiresAt) {
		writeErrorPage(w, "invalid_request", "This authorization request is unknown, expired or already answered. Start again from the application.")
		return
	}
	if decision == "deny" {
		redirectError(w, r, p.redirectURI, "access_denied", descAccessDenied, p.state)
		return
	}
	e.redirectCode(w, r, p.redirectURI, p.scopes, p.state)
}

// redirectCode issues a code and redirects to redirectURI?code=…&state=….
func (e *Exchange) redirectCode(w http.ResponseWriter, r *http.Request, redirectURI string, scopes []string, state string) {
	code := randomHex(32)
	e.mu.Lock()
	e.pruneLocked()
	e.codes[code] = &authCode{
		clientID:    e.cfg.ClientID,
		redirectURI: redirectURI,
		scopes:      scopes,
		expiresAt:   e.cfg.Now().Add(codeLifetime),
	}
	e.mu.Unlock()
	redirect(w, r, redirectURI, url.Values{"code": {code}}, state)
}

// pruneLocked forgets expired consent pages and codes, so a long demo does
// not grow without bound. e.mu must be held.
func (e *Exchange) pruneLocked() {
	now := e.cfg.Now()
	for k, p := range e.consents {
		if !now.Before(p.expiresAt) {
			delete(e.consents, k)
		}
	}
	for k, c := range e.codes {
		if !now.Before(c.expiresAt) {
			delete(e.codes, k)
		}
	}
}

// redirectError redirects to redirectURI with error, error_description and
// state (RFC 6749 §4.1.2.1).
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, code, desc, state string) {
	redirect(w, r, redirectURI, url.Values{"error": {code}, "error_description": {desc}}, state)
}

// redirect answers 302 to redirectURI with params added to its query; state
// is added when not empty. redirectURI is a registered URI, so it parses.
func redirect(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		writeErrorPage(w, "invalid_redirect_uri", descInvalidRedirectURI)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// setPageHeaders sets the headers of every HTML page: no caching, no
// framing, no referrer, nothing loaded from anywhere.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · EXchange</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em;color:#222}
h1{font-size:1.4em}li{margin:.3em 0}button{font-size:1em;padding:.5em 1.5em;margin-right:1em}
.error{color:#a00}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Consent}}<p><strong>{{.Client}}</strong> asks to access your EXchange account
<strong>{{.Member}}</strong>. It will be able to:</p>
<ul>{{range .Scopes}}<li><strong>{{.Name}}</strong>: {{.Description}}</li>{{end}}</ul>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="consent" value="{{.Consent}}">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>{{else}}<p class="error"><code>{{.Error}}</code>: {{.Description}}</p>{{end}}
</body></html>
`))

type scopeLine struct{ Name, Description string }

type pageData struct {
	Title, Client, Member, Consent, Error, Description string
	Scopes                                             []scopeLine
}

// writeConsentPage writes the consent page carrying consent.
func (e *Exchange) writeConsentPage(w http.ResponseWriter, consent string, scopes []string) {
	d := pageData{Title: "Authorize " + e.cfg.ClientID, Client: e.cfg.ClientID, Member: e.member().Email, Consent: consent}
	for _, s := range scopes {
		d.Scopes = append(d.Scopes, scopeLine{Name: s, Description: scopeDescriptions[s]})
	}
	setPageHeaders(w)
	w.WriteHeader(http.StatusOK)
	pageTemplate.Execute(w, d)
}

// writeErrorPage writes an HTML error page with status 400.
func writeErrorPage(w http.ResponseWriter, code, desc string) {
	setPageHeaders(w)
	w.WriteHeader(http.StatusBadRequest)
	pageTemplate.Execute(w, pageData{Title: "An error has occurred", Error: code, Description: desc})
}
