package oauthflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayproto"
)

// ErrPathRefused reports an API path that would leave the provider's
// api_base: "..", "//", an absolute URL, or encoded slashes, dots or
// backslashes. Nothing was sent.
var ErrPathRefused = errors.New("path refused")

// APIRequest is a request for a provider's API on behalf of a script.
type APIRequest struct {
	Method string
	// Path is relative to the provider's api_base, as the script wrote it
	// (still URL-escaped): "members/me", "orders".
	Path string
	// Params are the script's parameters. Peatio connections send them, the
	// default parameters and the signature in the query (GET, DELETE, HEAD)
	// or as a form body (other methods); bearer connections send the query
	// as is and Body unchanged.
	Params url.Values
	// Body and ContentType are a bearer request's body, passed through.
	Body        io.Reader
	ContentType string
}

// ResolveAPIPath joins api_base and a script's relative path. It refuses any
// path that could reach outside api_base or outside allowed_hosts.
func ResolveAPIPath(p Provider, rel string) (*url.URL, error) {
	lower := strings.ToLower(rel)
	switch {
	case rel == "":
		return nil, fmt.Errorf("%w: empty path", ErrPathRefused)
	case strings.HasPrefix(rel, "/") || strings.Contains(rel, "//"):
		return nil, fmt.Errorf("%w: %q has an empty segment", ErrPathRefused, rel)
	case strings.ContainsAny(rel, "\\?#") || strings.ContainsFunc(rel, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return nil, fmt.Errorf("%w: %q has a character a path here may not hold", ErrPathRefused, rel)
	case strings.Contains(lower, "%2f") || strings.Contains(lower, "%2e") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%25"):
		return nil, fmt.Errorf("%w: %q has an encoded slash, dot or percent", ErrPathRefused, rel)
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "." || seg == ".." {
			return nil, fmt.Errorf("%w: %q climbs out of api_base", ErrPathRefused, rel)
		}
	}
	base, err := url.Parse(strings.TrimSuffix(p.APIBase, "/"))
	if err != nil || !base.IsAbs() {
		return nil, fmt.Errorf("api_base %q is not an absolute URL: %w", p.APIBase, ErrBadResponse)
	}
	u, err := url.Parse(base.String() + "/" + rel)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrPathRefused, rel, err)
	}
	if u.Host != base.Host || !strings.HasPrefix(u.Path, base.Path+"/") {
		return nil, fmt.Errorf("%w: %q leaves api_base", ErrPathRefused, rel)
	}
	if err := p.CheckAllowed(u); err != nil {
		return nil, err
	}
	return u, nil
}

// NewAPIRequest builds the authenticated request for r: Peatio-signed with
// tok's keys (default parameters added before signing), or with
// Authorization: Bearer. Only hosts in allowed_hosts are ever addressed.
func NewAPIRequest(ctx context.Context, p Provider, tok *Token, signer *peatio.Signer, r APIRequest) (*http.Request, error) {
	if p.TokenFormat != relayproto.FormatPeatio {
		return newAPIRequest(ctx, p, tok.AccessToken, "", nil, signer, r)
	}
	sk := []byte(tok.SecretKey)
	defer clear(sk)
	return newAPIRequest(ctx, p, "", tok.AccessKey, sk, signer, r)
}

// NewAPIRequestKey is NewAPIRequest for a key held as bytes, the access
// token exactly as issued ("AK:SK" for peatio). A Peatio secret key is read
// in place and never copied, so key may be a view of locked memory that the
// caller wipes once NewAPIRequestKey returns; a bearer token is copied into
// the Authorization header, which cannot be helped.
func NewAPIRequestKey(ctx context.Context, p Provider, key []byte, signer *peatio.Signer, r APIRequest) (*http.Request, error) {
	if p.TokenFormat != relayproto.FormatPeatio {
		return newAPIRequest(ctx, p, string(key), "", nil, signer, r)
	}
	ak, sk, _ := bytes.Cut(key, []byte(":"))
	return newAPIRequest(ctx, p, "", string(ak), sk, signer, r)
}

// newAPIRequest builds the request with a bearer token, or signs it with
// the Peatio key pair.
func newAPIRequest(ctx context.Context, p Provider, bearer, accessKey string, secretKey []byte, signer *peatio.Signer, r APIRequest) (*http.Request, error) {
	u, err := ResolveAPIPath(p, r.Path)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(r.Method)
	if p.TokenFormat != relayproto.FormatPeatio {
		q := url.Values{}
		for k, v := range p.DefaultParams {
			q.Set(k, v)
		}
		for k, vs := range r.Params {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		req, err := http.NewRequestWithContext(ctx, method, u.String(), r.Body)
		if err != nil {
			return nil, fmt.Errorf("api request: %w", err)
		}
		if r.ContentType != "" {
			req.Header.Set("Content-Type", r.ContentType)
		}
		req.Header.Set("Authorization", "Bearer "+bearer)
		return req, nil
	}
	if r.Body != nil {
		return nil, errors.New("api request: a Peatio request carries its parameters in the query or a form body, not a raw body")
	}
	if signer == nil {
		signer = &peatio.Signer{}
	}
	sq, err := signer.SignKey(method, u.Path, r.Params, accessKey, secretKey, p.DefaultParams)
	if err != nil {
		return nil, fmt.Errorf("api request: %w", err)
	}
	var body io.Reader
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		u.RawQuery = sq.Query
	default:
		body = strings.NewReader(sq.Query)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("api request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req, nil
}
