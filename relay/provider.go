package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/tokentray/tokentray/relayproto"
)

// maxProviderAnswer bounds a provider's answer read into memory.
const maxProviderAnswer = 1 << 20

// providerClient makes the relay's calls to one provider's token and revoke endpoints,
// at most provider_calls_per_second of them. It is safe for concurrent use.
type providerClient struct {
	cfg     *Provider
	secret  string
	http    *http.Client
	log     *slog.Logger
	metrics *metrics
	limiter *rate.Limiter // provider_calls_per_second, burst the same
	maxWait time.Duration // the longest wait for limiter: half of provider_timeout
	store   *sharedStore  // when set, its bucket replaces limiter (limiter if it fails)
}

// tokenResponse is a provider's token answer (RFC 6749 §5.1). token_type passes through
// as sent, e.g. Peatio's "urn:peatio:api:v2:token".
type tokenResponse struct {
	AccessToken  string      `json:"access_token"`
	TokenType    string      `json:"token_type"`
	ExpiresIn    json.Number `json:"expires_in"`
	RefreshToken string      `json:"refresh_token"`
	Scope        string      `json:"scope"`
}

// providerRefusal is a provider's error body (RFC 6749 §5.2). error is kept raw because
// some providers answer an object there.
type providerRefusal struct {
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3).
func (c *providerClient) exchangeCode(ctx context.Context, code, redirectURI, verifier string) (*tokenResponse, *apiError) {
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {redirectURI},
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return c.token(ctx, form)
}

// refresh uses a refresh token (RFC 6749 §6).
func (c *providerClient) refresh(ctx context.Context, refreshToken string) (*tokenResponse, *apiError) {
	return c.token(ctx, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	})
}

func (c *providerClient) token(ctx context.Context, form url.Values) (*tokenResponse, *apiError) {
	req, err := c.newRequest(ctx, c.cfg.TokenURL, form, true)
	if err != nil {
		return nil, internalErr()
	}
	status, body, aerr := c.do(req, "token")
	if aerr != nil {
		return nil, aerr
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		c.log.Warn("provider token answer unusable", "provider", c.cfg.ID, "status", status)
		return nil, unavailable(status, "the provider's token answer has no access_token")
	}
	return &tr, nil
}

// revoke revokes a refresh token per the provider's revoke_style: "doorkeeper" sends the
// access token as Bearer; "rfc7009" authenticates the client (RFC 7009 §2.1).
func (c *providerClient) revoke(ctx context.Context, refreshToken, accessToken string) *apiError {
	form := url.Values{"token": {refreshToken}}
	rfc7009 := c.cfg.RevokeStyle == relayproto.RevokeRFC7009
	if rfc7009 {
		form.Set("token_type_hint", "refresh_token")
	}
	req, err := c.newRequest(ctx, c.cfg.RevokeURL, form, rfc7009)
	if err != nil {
		return internalErr()
	}
	if !rfc7009 {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	_, _, aerr := c.do(req, "revoke")
	return aerr
}

// newRequest builds a form POST, adding client authentication when clientAuth is set
// (RFC 6749 §2.3.1: "basic" with form-encoded id and secret, or "params").
func (c *providerClient) newRequest(ctx context.Context, endpoint string, form url.Values, clientAuth bool) (*http.Request, error) {
	if clientAuth && c.cfg.AuthStyle == relayproto.AuthParams {
		form.Set("client_id", c.cfg.ClientID)
		form.Set("client_secret", c.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("provider request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if clientAuth && c.cfg.AuthStyle == relayproto.AuthBasic {
		req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.secret))
	}
	return req, nil
}

// do waits for the provider's rate limit, sends req and records the call's latency.
// When the limit would hold the call longer than maxWait, so that too little of
// provider_timeout would be left for the call itself, the provider is not called and
// the answer is provider_busy.
func (c *providerClient) do(req *http.Request, call string) (int, []byte, *apiError) {
	wctx, cancel := context.WithTimeout(req.Context(), c.maxWait)
	err := c.waitTurn(wctx)
	cancel()
	if err != nil {
		c.metrics.throttled.WithLabelValues(c.cfg.ID).Inc()
		c.log.Warn("provider calls at their limit", "provider", c.cfg.ID, "call", call)
		return 0, nil, providerBusy()
	}
	start := time.Now()
	status, body, e := c.send(req, call)
	c.metrics.observeProviderCall(c.cfg.ID, call, outcomeOf(e), time.Since(start))
	return status, body, e
}

// waitTurn waits for a token of provider_calls_per_second: from the store's bucket,
// which all replicas share, or this process's when there is no store or it fails.
func (c *providerClient) waitTurn(ctx context.Context) error {
	if c.store != nil {
		interval := time.Second / time.Duration(c.limiter.Burst())
		for {
			ok, wait, err := c.store.allow(ctx, "provider:"+c.cfg.ID, interval, c.limiter.Burst())
			if err != nil {
				break
			}
			if ok {
				return nil
			}
			if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
				return context.DeadlineExceeded
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return c.limiter.Wait(ctx)
}

// send sends req and sorts the answer: 2xx gives the body; a 4xx with an OAuth error
// body is the provider's refusal, passed through verbatim; anything else is unavailable.
func (c *providerClient) send(req *http.Request, call string) (int, []byte, *apiError) {
	resp, err := c.http.Do(req)
	if err != nil {
		reason := "unreachable"
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			reason = "timeout"
		}
		c.log.Warn("provider call failed", "provider", c.cfg.ID, "call", call, "reason", reason)
		if reason == "timeout" {
			return 0, nil, unavailable(0, "the provider did not answer in time")
		}
		return 0, nil, unavailable(0, "the provider cannot be reached")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderAnswer))
	if err != nil {
		c.log.Warn("provider answer cut short", "provider", c.cfg.ID, "call", call, "status", resp.StatusCode)
		return resp.StatusCode, nil, unavailable(resp.StatusCode, "the provider's answer was cut short")
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if len(bytes.TrimSpace(body)) > 0 && !isJSON(resp.Header.Get("Content-Type"), body) {
			c.log.Warn("provider answer not JSON", "provider", c.cfg.ID, "call", call, "status", resp.StatusCode)
			return resp.StatusCode, nil, unavailable(resp.StatusCode, "the provider's answer is not JSON")
		}
		return resp.StatusCode, body, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		if e := refusal(resp.StatusCode, body); e != nil {
			c.log.Info("provider refused", "provider", c.cfg.ID, "call", call, "status", resp.StatusCode, "error", e.Code)
			return resp.StatusCode, nil, e
		}
	}
	c.log.Warn("provider answer unusable", "provider", c.cfg.ID, "call", call, "status", resp.StatusCode)
	return resp.StatusCode, nil, unavailable(resp.StatusCode, "the provider answered HTTP "+strconv.Itoa(resp.StatusCode))
}

// refusal decodes an OAuth error body, or returns nil when body is not one.
func refusal(status int, body []byte) *apiError {
	var r providerRefusal
	if err := json.Unmarshal(body, &r); err != nil || len(r.Error) == 0 || string(r.Error) == "null" {
		return nil
	}
	code := string(r.Error)
	var s string
	if json.Unmarshal(r.Error, &s) == nil {
		code = s
	} else {
		var buf bytes.Buffer
		if json.Compact(&buf, r.Error) == nil {
			code = buf.String()
		}
	}
	if code == "" {
		return nil
	}
	return &apiError{Status: http.StatusBadRequest, ErrorBody: relayproto.ErrorBody{
		Code:           code,
		Description:    r.ErrorDescription,
		Source:         relayproto.SourceProvider,
		ProviderStatus: status,
	}}
}

func unavailable(status int, desc string) *apiError {
	return &apiError{Status: http.StatusBadGateway, ErrorBody: relayproto.ErrorBody{
		Code:           "provider_unavailable",
		Description:    desc,
		Source:         relayproto.SourceProvider,
		ProviderStatus: status,
	}}
}

func isJSON(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil &&
		mt != "application/json" && !strings.HasSuffix(mt, "+json") && mt != "text/plain" {
		return false
	}
	return json.Valid(body)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
