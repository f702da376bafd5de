package peatio

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// InvalidTonce is the Peatio API error code for a tonce outside the
// server's window; its message carries the server's time in milliseconds.
const InvalidTonce = 2007

// SignedQuery is a signed Peatio API request.
type SignedQuery struct {
	AccessKey string `json:"access_key"`
	Tonce     int64  `json:"tonce"`
	Signature string `json:"signature"`
	// Query is the full URL-encoded query to send, signature included.
	Query string `json:"query"`
}

// Signer signs Peatio API v2 requests. Tonces are per access key
// max(now_ms + clock offset, last + 1), so they strictly increase even
// under concurrent use. The zero value is ready; it is safe for concurrent
// use by many goroutines.
type Signer struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	offset int64            // server ms minus local ms; guarded by mu
	last   map[string]int64 // last tonce per access key; guarded by mu
}

// reservedParams are the parameters the signer sets itself.
var reservedParams = map[string]bool{"access_key": true, "tonce": true, "signature": true}

// Sign signs method path?params for the key pair. defaultParams are added
// first (an explicit param of the same name wins) and are part of the
// signed payload. The payload is METHOD|PATH|QUERY with QUERY the
// parameters sorted by name and joined as k=v&… with values unescaped;
// the signature is hex(HMAC-SHA256(secretKey, payload)). path is absolute
// as the exchange sees it ("/api/v2/orders"); method is one of GET, POST,
// PUT, PATCH, DELETE and HEAD, in any case.
func (s *Signer) Sign(method, path string, params url.Values, accessKey, secretKey string, defaultParams map[string]string) (SignedQuery, error) {
	sk := []byte(secretKey)
	defer clear(sk) // one copy fewer of the secret left in the heap
	return s.SignKey(method, path, params, accessKey, sk, defaultParams)
}

// SignKey is Sign with the secret key given as bytes, which it reads in
// place and never copies: the caller may hand it a view of locked memory and
// wipe it after SignKey returns.
func (s *Signer) SignKey(method, path string, params url.Values, accessKey string, secretKey []byte, defaultParams map[string]string) (SignedQuery, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	switch {
	case !signableMethods[method]:
		return SignedQuery{}, fmt.Errorf("sign: method %.16q is not one of GET POST PUT PATCH DELETE", method)
	case !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#| \t\r\n"):
		return SignedQuery{}, fmt.Errorf("sign: path %.64q must be absolute, without query, fragment or spaces", path)
	case accessKey == "" || len(secretKey) == 0:
		return SignedQuery{}, errors.New("sign: missing access or secret key")
	}
	all := make(map[string]string, len(params)+len(defaultParams)+3)
	for k, v := range defaultParams {
		all[k] = v
	}
	for k, vs := range params {
		if reservedParams[k] {
			return SignedQuery{}, fmt.Errorf("sign: parameter %q is set by the signer", k)
		}
		if len(vs) != 1 {
			return SignedQuery{}, fmt.Errorf("sign: parameter %q needs exactly one value, has %d", k, len(vs))
		}
		all[k] = vs[0]
	}
	for k := range defaultParams {
		if reservedParams[k] {
			return SignedQuery{}, fmt.Errorf("sign: default parameter %q is set by the signer", k)
		}
	}
	tonce := s.nextTonce(accessKey)
	all["access_key"] = accessKey
	all["tonce"] = strconv.FormatInt(tonce, 10)

	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var payload, query strings.Builder
	payload.WriteString(method + "|" + path + "|")
	for i, k := range keys {
		if i > 0 {
			payload.WriteByte('&')
			query.WriteByte('&')
		}
		payload.WriteString(k + "=" + all[k])
		query.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(all[k]))
	}
	sig := signature(secretKey, payload.String())
	query.WriteString("&signature=" + sig)
	return SignedQuery{AccessKey: accessKey, Tonce: tonce, Signature: sig, Query: query.String()}, nil
}

// Signature is hex(HMAC-SHA256(secretKey, payload)).
func Signature(secretKey, payload string) string {
	sk := []byte(secretKey)
	defer clear(sk)
	return signature(sk, payload)
}

// signature is Signature reading the key in place: HMAC keeps
// only the key XORed with its pads, never the key itself.
func signature(secretKey []byte, payload string) string {
	m := hmac.New(sha256.New, secretKey)
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

// signableMethods are the methods a Peatio request may be signed for. The
// method is part of the signed payload, so anything else (a "|" or a line
// break above all) would let a caller shape the payload.
var signableMethods = map[string]bool{
	"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true,
}

// nextTonce returns max(now_ms + offset, last + 1) for accessKey and records it.
func (s *Signer) nextTonce(accessKey string) int64 {
	now := s.now().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = make(map[string]int64)
	}
	t := max(now+s.offset, s.last[accessKey]+1)
	s.last[accessKey] = t
	return t
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Offset returns the clock offset (server minus local) learnt from 2007
// answers.
func (s *Signer) Offset() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.offset) * time.Millisecond
}

// errorBody is the Peatio API error body {"error":{"code":N,"message":M}}.
type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// ParseError reads a Peatio API error body {"error":{"code":N,"message":M}};
// ok is false for anything else.
func ParseError(body []byte) (code int, message string, ok bool) {
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == 0 {
		return 0, "", false
	}
	return e.Error.Code, e.Error.Message, true
}

// msDigits finds the numbers in a 2007 message.
var msDigits = regexp.MustCompile(`\b[0-9]{12,16}\b`)

// ObserveError looks at a Peatio API error body. A 2007 answer (invalid
// tonce) whose message carries the server's time in milliseconds sets the
// clock offset used for later tonces, and restarts at server time the
// sequence of any key whose last tonce is beyond the server's ±30 s window;
// it reports whether it did. Every other body is ignored.
func (s *Signer) ObserveError(body []byte) bool {
	code, msg, ok := ParseError(body)
	if !ok || code != InvalidTonce {
		return false
	}
	server, ok := serverTimeMS(msg)
	if !ok {
		return false
	}
	local := s.now().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset = server - local
	// A key whose last tonce lies beyond the server's window was running on
	// a clock that is ahead: max(now, last+1) would stay out of range until
	// real time caught up, so its sequence restarts at server time.
	for k, last := range s.last {
		if last > server+tonceWindow {
			s.last[k] = server - 1
		}
	}
	return true
}

// tonceWindow is how far from its clock Peatio accepts a tonce (ms).
const tonceWindow = 30_000

// serverTimeMS extracts the server time from a 2007 message: the number
// after "timestamp is" or "server time", else the last 12–16 digit number
// (Unix milliseconds from 2001 to 2286).
func serverTimeMS(msg string) (int64, bool) {
	lower := strings.ToLower(msg)
	for _, marker := range []string{"timestamp is", "server time", "now"} {
		if i := strings.LastIndex(lower, marker); i >= 0 {
			if m := msDigits.FindString(msg[i:]); m != "" {
				n, err := strconv.ParseInt(m, 10, 64)
				return n, err == nil
			}
		}
	}
	all := msDigits.FindAllString(msg, -1)
	if len(all) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(all[len(all)-1], 10, 64)
	return n, err == nil
}
