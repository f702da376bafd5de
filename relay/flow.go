package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokentray/tokentray/relayproto"
)

const (
	ticketLife     = 10 * time.Minute
	resultLife     = 2 * time.Minute
	maxLoopbackLen = 256
	maxStateLen    = 128
	maxFieldLen    = 256
)

// ticket is the flow ticket, sealed into the provider's state parameter.
type ticket struct {
	Scopes    []string          `json:"sc"`
	Fields    map[string]string `json:"f,omitempty"`
	Loopback  string            `json:"lb"`
	State     string            `json:"st"`
	Challenge string            `json:"ch"`
	DeviceKey string            `json:"dk"`
	Verifier  string            `json:"pv,omitempty"` // the relay's own PKCE to the provider
	Expires   int64             `json:"exp"`
}

// result is what the callback hands the device through the loopback, sealed.
type result struct {
	Answer    relayproto.TokenAnswer `json:"a"`
	Challenge string                 `json:"ch"`
	Expires   int64                  `json:"exp"`
}

func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var req relayproto.AuthorizeRequest
	if e := decodeBody(w, r, &req); e != nil {
		writeError(w, e)
		return
	}
	c, ok := s.providers[req.Provider]
	if !ok {
		writeError(w, badRequest("unknown_provider", "the relay has no provider with this id"))
		return
	}
	t, e := newTicket(c.cfg, &req)
	if e != nil {
		writeError(w, e)
		return
	}
	t.Expires = s.now().Add(ticketLife).Unix()
	var providerChallenge string
	if c.cfg.PKCEToProvider != nil && *c.cfg.PKCEToProvider {
		t.Verifier = randomString(32)
		sum := sha256.Sum256([]byte(t.Verifier))
		providerChallenge = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	state, err := s.sealer.sealJSON(purposeTicket, c.cfg.ID, c.cfg.ClientID, t)
	if err != nil {
		s.log.Error("seal ticket", "err", err)
		writeError(w, internalErr())
		return
	}
	u, err := url.Parse(c.cfg.AuthorizeURL)
	if err != nil {
		writeError(w, internalErr())
		return
	}
	q := u.Query()
	q.Set("client_id", c.cfg.ClientID)
	q.Set("redirect_uri", s.callbackURL())
	q.Set("response_type", "code")
	q.Set("scope", strings.Join(t.Scopes, " "))
	q.Set("state", state)
	if providerChallenge != "" {
		q.Set("code_challenge", providerChallenge)
		q.Set("code_challenge_method", "S256")
	}
	u.RawQuery = q.Encode()
	writeJSON(w, http.StatusOK, relayproto.AuthorizeAnswer{AuthorizeURL: u.String()})
}

// newTicket checks an authorize request against the provider and builds its ticket.
func newTicket(p *Provider, req *relayproto.AuthorizeRequest) (*ticket, *apiError) {
	if err := checkLoopback(req.Loopback); err != nil {
		return nil, err
	}
	if req.State == "" || len(req.State) > maxStateLen {
		return nil, badRequest("invalid_state", "state must be 1 to 128 bytes")
	}
	if req.CodeChallengeMethod != "S256" {
		return nil, badRequest("invalid_request", "code_challenge_method must be S256")
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(req.CodeChallenge); err != nil || len(b) != sha256.Size {
		return nil, badRequest("invalid_request", "code_challenge must be base64url(SHA256(verifier)) without padding")
	}
	if _, ok := decodeDeviceKey(req.DeviceKey); !ok {
		return nil, badRequest("invalid_device_key", "device_key must be a 32-byte Ed25519 public key, base64url without padding")
	}
	scopes, e := pickScopes(p, req.Scopes)
	if e != nil {
		return nil, e
	}
	fields, e := pickFields(p, req.Fields)
	if e != nil {
		return nil, e
	}
	return &ticket{
		Scopes: scopes, Fields: fields, Loopback: req.Loopback, State: req.State,
		Challenge: req.CodeChallenge, DeviceKey: req.DeviceKey,
	}, nil
}

// checkLoopback accepts only http://127.0.0.1:PORT or http://[::1]:PORT with an optional
// path (RFC 8252 §7.3), as docs/relay.md §2 spells out.
func checkLoopback(s string) *apiError {
	bad := func(why string) *apiError {
		return badRequest("invalid_loopback", "loopback "+why)
	}
	if s == "" || len(s) > maxLoopbackLen {
		return bad("must be 1 to 256 bytes")
	}
	if strings.ContainsAny(s, "?#\\") {
		return bad("must have no query or fragment")
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" {
		return bad("is not a URL")
	}
	if u.Scheme != "http" {
		return bad("must use http")
	}
	if u.User != nil {
		return bad("must have no user info")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || (u.Host != "127.0.0.1:"+port && u.Host != "[::1]:"+port) || (host != "127.0.0.1" && host != "::1") {
		return bad("host must be exactly 127.0.0.1 or [::1] with a port")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 || strconv.FormatUint(n, 10) != port {
		return bad("port must be a number from 1 to 65535")
	}
	if u.Path != "" && !strings.HasPrefix(u.Path, "/") {
		return bad("path must start with /")
	}
	return nil
}

// pickScopes checks requested scopes against the provider's and returns them in the
// provider's order, with required scopes added; none requested means the defaults.
func pickScopes(p *Provider, requested []string) ([]string, *apiError) {
	want := map[string]bool{}
	for _, name := range requested {
		found := false
		for _, sc := range p.Scopes {
			found = found || sc.Name == name
		}
		if !found {
			return nil, badRequest("invalid_scope", "the provider offers no scope "+strconv.Quote(truncate(name, 64)))
		}
		want[name] = true
	}
	var out []string
	for _, sc := range p.Scopes {
		if want[sc.Name] || sc.Required || (len(requested) == 0 && sc.Default) {
			out = append(out, sc.Name)
		}
	}
	if len(out) == 0 {
		return nil, badRequest("invalid_scope", "no scope requested and the provider has no default")
	}
	return out, nil
}

// pickFields checks the Connect-time fields: known names, at most 8 values of at most
// 256 bytes, select values among the options, required ones present (or defaulted).
func pickFields(p *Provider, given map[string]string) (map[string]string, *apiError) {
	if len(given) > relayproto.MaxFields {
		return nil, badRequest("invalid_fields", "at most 8 fields")
	}
	for name, v := range given {
		if len(v) > maxFieldLen {
			return nil, badRequest("invalid_fields", "a field value is longer than 256 bytes")
		}
		known := false
		for _, f := range p.Fields {
			known = known || f.Name == name
		}
		if !known {
			return nil, badRequest("invalid_fields", "the provider has no field "+strconv.Quote(truncate(name, 64)))
		}
	}
	out := map[string]string{}
	for _, f := range p.Fields {
		v, ok := given[f.Name]
		if !ok || v == "" {
			v = f.Default
		}
		if v == "" {
			if f.Required {
				return nil, badRequest("invalid_fields", "field "+strconv.Quote(f.Name)+" is required")
			}
			continue
		}
		if f.Kind == "select" && !slices.Contains(f.Options, v) {
			return nil, badRequest("invalid_fields", "field "+strconv.Quote(f.Name)+" is not one of its options")
		}
		out[f.Name] = v
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// serveCallback is where the provider sends the browser. The code is exchanged here and
// never reaches the device; the device gets a sealed result only its PKCE verifier opens.
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, t := s.openTicket(q.Get("state"))
	if t == nil {
		s.log.Info("callback with a ticket that does not open")
		writeTicketPage(w)
		return
	}
	back := func(e *apiError) {
		noteOutcome(w, e)
		s.log.Info("callback refused", "provider", c.cfg.ID, "error", e.Code, "source", e.Source)
		v := url.Values{
			"error":             {e.Code},
			"error_description": {e.Description},
			"error_source":      {e.Source},
			"state":             {t.State},
		}
		redirectLoopback(w, r, t.Loopback, v)
	}
	now := s.now()
	switch {
	case now.Unix() >= t.Expires:
		back(badRequest("expired_ticket", "the sign-in took longer than 10 minutes; start again"))
		return
	case q.Get("error") != "":
		back(&apiError{ErrorBody: relayproto.ErrorBody{Code: q.Get("error"), Description: q.Get("error_description"), Source: relayproto.SourceProvider}})
		return
	case q.Get("code") == "":
		back(badRequest("invalid_request", "the provider sent neither a code nor an error"))
		return
	}
	// A ticket is served once: a replayed callback never reaches the provider.
	fresh, e := s.once(r.Context(), onceTicket, s.spent, sha256.Sum256([]byte(q.Get("state"))), time.Unix(t.Expires, 0))
	if e != nil {
		back(e)
		return
	}
	if !fresh {
		back(badRequest("ticket_used", "this sign-in was already completed; start again"))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.ProviderTimeout)
	defer cancel()
	tr, e := c.exchangeCode(ctx, q.Get("code"), s.callbackURL(), t.Verifier)
	if e != nil {
		back(e)
		return
	}
	answer, err := s.answer(c, tr, t.DeviceKey, "", strings.Join(t.Scopes, " "))
	if err != nil {
		s.log.Error("seal refresh", "provider", c.cfg.ID, "err", err)
		back(internalErr())
		return
	}
	res, err := s.sealer.sealJSON(purposeResult, c.cfg.ID, c.cfg.ClientID, result{
		Answer: *answer, Challenge: t.Challenge, Expires: s.now().Add(resultLife).Unix(),
	})
	if err != nil {
		s.log.Error("seal result", "provider", c.cfg.ID, "err", err)
		back(internalErr())
		return
	}
	s.log.Info("callback exchanged code", "provider", c.cfg.ID)
	redirectLoopback(w, r, t.Loopback, url.Values{"result": {res}, "state": {t.State}})
}

// openTicket tries each provider's binding; a ticket opens for exactly one.
func (s *Server) openTicket(state string) (*providerClient, *ticket) {
	if state == "" {
		return nil, nil
	}
	for _, c := range s.order {
		var t ticket
		if s.sealer.openJSON(purposeTicket, c.cfg.ID, c.cfg.ClientID, state, &t) == nil {
			return c, &t
		}
	}
	return nil, nil
}

func redirectLoopback(w http.ResponseWriter, r *http.Request, loopback string, v url.Values) {
	u, err := url.Parse(loopback)
	if err != nil { // checked at authorize; sealed since
		writeTicketPage(w)
		return
	}
	u.RawQuery = v.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// writeTicketPage answers a callback that has no loopback to return to.
func writeTicketPage(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte("<!doctype html><title>tokentray</title><p>" +
		html.EscapeString("This sign-in link is not valid or has expired. Start again from tokentray.") + "</p>\n"))
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
