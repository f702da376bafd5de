package fakeexchange

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
)

// Payload returns the string Peatio APIv2 signs for a request: METHOD, the
// path (e.g. "/api/v2/orders") and the query joined by "|", where the query
// is every parameter except "signature", "format" and "route_info", sorted
// by key and written "k=v" joined by "&" with values NOT escaped. A key
// given several times contributes its last value, as Rack keeps it.
func Payload(method, path string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k, vs := range params {
		if len(vs) == 0 || k == "signature" || k == "format" || k == "route_info" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte('|')
	b.WriteString(path)
	b.WriteByte('|')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		vs := params[k]
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(vs[len(vs)-1])
	}
	return b.String()
}

// Sign returns the lowercase hex HMAC-SHA256 of payload under secretKey.
func Sign(secretKey, payload string) string {
	mac := hmac.New(sha256.New, []byte(secretKey))
	mac.Write([]byte(payload))
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is Sign(secretKey, payload), compared in
// constant time. Only lowercase hex matches, as in Peatio.
func Verify(secretKey, payload, signature string) bool {
	want := Sign(secretKey, payload)
	return subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1
}
