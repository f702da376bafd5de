package oauthflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayproto"
)

// maxLabel caps a connection label, in runes.
const maxLabel = 128

// Me is what the provider's me-API says about the connected account.
type Me struct {
	// Label is the provider's label template run over the me-response.
	Label string
	// Account is me[account_field]: the provider's unique account id.
	Account string
	// Raw is the decoded me-response (numbers as json.Number).
	Raw map[string]any
}

// FetchMe calls the provider's me-API, GET api_base+me_path: signed for
// peatio (signer makes the tonce; nil uses a fresh peatio.Signer), with
// Authorization: Bearer for bearer tokens; default_params go into the
// query. Only hosts in p.AllowedHosts are contacted: the host is checked
// before dialing and redirects are not followed. A 2007 answer corrects
// the signer's clock and is retried once. fields are the Connect fields,
// offered to the label template as .fields. API refusals are *Error with
// the Peatio code in decimal ("2010") or the OAuth error code.
func FetchMe(ctx context.Context, client *http.Client, p Provider, tok *Token, fields map[string]string, signer *peatio.Signer) (Me, error) {
	if tok == nil {
		return Me{}, errors.New("me: no token")
	}
	if p.AccountField == "" {
		return Me{}, fmt.Errorf("me: provider %s has no account_field: %w", p.ID, ErrNoAccount)
	}
	u, err := url.Parse(strings.TrimSuffix(p.APIBase, "/") + p.MePath)
	if err != nil || !u.IsAbs() || u.Fragment != "" {
		return Me{}, fmt.Errorf("me: api_base+me_path is not an absolute URL: %w", ErrBadResponse)
	}
	if err := p.CheckAllowed(u); err != nil {
		return Me{}, fmt.Errorf("me: %w", err)
	}
	if signer == nil {
		signer = &peatio.Signer{}
	}
	hc := http.DefaultClient
	if client != nil {
		hc = client
	}
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	var body []byte
	for attempt := 0; ; attempt++ {
		var status int
		status, body, err = getMe(ctx, &noRedirect, p, u, tok, signer)
		if err != nil {
			return Me{}, fmt.Errorf("me: %w", err)
		}
		if status/100 == 2 {
			break
		}
		if attempt == 0 && p.TokenFormat == relayproto.FormatPeatio && signer.ObserveError(body) {
			continue
		}
		return Me{}, fmt.Errorf("me: %w", apiError(status, body))
	}
	raw, err := decodeObject(body)
	if err != nil {
		return Me{}, fmt.Errorf("me: %w", err)
	}
	me := Me{Raw: raw}
	if me.Account, err = accountID(raw, p.AccountField); err != nil {
		return Me{}, fmt.Errorf("me: %w", err)
	}
	if me.Label, err = RenderLabel(p, raw, fields); err != nil {
		return Me{}, fmt.Errorf("me: %w", err)
	}
	return me, nil
}

// getMe sends one me request and returns the status and body.
func getMe(ctx context.Context, hc *http.Client, p Provider, base *url.URL, tok *Token, signer *peatio.Signer) (int, []byte, error) {
	u := *base
	params := u.Query()
	switch p.TokenFormat {
	case relayproto.FormatPeatio:
		sq, err := signer.Sign(http.MethodGet, u.Path, params, tok.AccessKey, tok.SecretKey, p.DefaultParams)
		if err != nil {
			return 0, nil, err
		}
		u.RawQuery = sq.Query
	case relayproto.FormatBearer:
		for k, v := range p.DefaultParams {
			if !params.Has(k) {
				params.Set(k, v)
			}
		}
		u.RawQuery = params.Encode()
	default:
		return 0, nil, fmt.Errorf("unknown token format %q", truncate(p.TokenFormat, 32))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", ErrBadResponse)
	}
	req.Header.Set("Accept", "application/json")
	if p.TokenFormat == relayproto.FormatBearer {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL may carry a signature: keep it out of the error.
		return 0, nil, fmt.Errorf("GET %s%s: %w", u.Host, u.Path, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	if len(body) > maxBody {
		return 0, nil, fmt.Errorf("answer over %d bytes: %w", maxBody, ErrBadResponse)
	}
	return resp.StatusCode, body, nil
}

// apiError turns a provider API refusal into *Error: Peatio's
// {"error":{"code","message"}}, OAuth's {"error","error_description"}, or
// the bare status.
func apiError(status int, body []byte) error {
	if code, msg, ok := peatio.ParseError(body); ok {
		return &Error{Code: strconv.Itoa(code), Description: truncate(msg, maxProviderText), Source: relayproto.SourceProvider, HTTPStatus: status}
	}
	var o struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &o) == nil && o.Code != "" {
		return &Error{Code: truncate(o.Code, 256), Description: truncate(o.Description, maxProviderText), Source: relayproto.SourceProvider, HTTPStatus: status}
	}
	return &Error{Code: "http_" + strconv.Itoa(status), Description: http.StatusText(status), Source: relayproto.SourceProvider, HTTPStatus: status}
}

// decodeObject decodes a JSON object, numbers as json.Number.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil || dec.More() {
		return nil, fmt.Errorf("me-response is not a JSON object: %w", ErrBadResponse)
	}
	return raw, nil
}

// accountID reads raw[field] as a string: a non-empty string or a number.
func accountID(raw map[string]any, field string) (string, error) {
	switch v := raw[field].(type) {
	case string:
		if strings.TrimSpace(v) != "" {
			return v, nil
		}
	case json.Number:
		return v.String(), nil
	case nil:
		return "", fmt.Errorf("field %q missing: %w", field, ErrNoAccount)
	}
	return "", fmt.Errorf("field %q is not a non-empty string or number: %w", field, ErrNoAccount)
}

// RenderLabel runs p.Label, a Go text/template, over the me-response raw
// with the Connect fields added as .fields; a missing key is an error. The
// result is one line of at most 128 runes. An empty template gives p.Name.
// Errors wrap ErrLabel.
func RenderLabel(p Provider, raw map[string]any, fields map[string]string) (string, error) {
	if strings.TrimSpace(p.Label) == "" {
		return p.Name, nil
	}
	t, err := template.New("label").Option("missingkey=error").Parse(p.Label)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrLabel, err)
	}
	data := make(map[string]any, len(raw)+1)
	for k, v := range raw {
		data[k] = v
	}
	if fields == nil {
		fields = map[string]string{}
	}
	data["fields"] = fields
	var b strings.Builder
	if err := t.Execute(&limitedWriter{w: &b, n: 4096}, data); err != nil {
		return "", fmt.Errorf("%w: %w", ErrLabel, err)
	}
	label := cleanLabel(b.String())
	if label == "" {
		return "", fmt.Errorf("%w: the label is empty", ErrLabel)
	}
	return label, nil
}

// cleanLabel folds whitespace and control characters to single spaces and
// cuts the result to maxLabel runes.
func cleanLabel(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > maxLabel {
		s = string(r[:maxLabel-1]) + "…"
	}
	return s
}

// limitedWriter fails once more than n bytes were written.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errors.New("label longer than 4096 bytes")
	}
	l.n -= len(p)
	return l.w.Write(p)
}
