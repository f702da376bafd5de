package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayproto"
)

// The Peatio answers that mean the key the agent used is dead.
const (
	peatioUnknownKey = 2008 // rotated away by a refresh
	peatioExpiredKey = 2010
)

// Proxy sends a script's request to the connection's API, authenticated by the
// agent: Peatio-signed (default parameters added before signing) or with a
// Bearer token. Only the pinned allowed_hosts are contacted and redirects are
// not followed. A GET answered with 2008 or 2010 refreshes the key once (with
// the generation it used) and is sent again; other methods are never sent
// twice, their answer goes back as it came. The caller must close the
// response body, which streams from the provider.
func (a *Agent) Proxy(ctx context.Context, id string, r oauthflow.APIRequest) (*http.Response, error) {
	c, err := a.find(id)
	if err != nil {
		return nil, err
	}
	retryable := strings.EqualFold(r.Method, http.MethodGet)
	for attempt := 0; ; attempt++ {
		if err := a.ensureFresh(ctx, c, 0); err != nil {
			return nil, err
		}
		req, profile, gen, err := a.apiRequest(ctx, c, r)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		resp, err := a.proxyClient.Do(req)
		if err != nil {
			return nil, &oauthflow.Error{Code: "provider_unavailable", Source: relayproto.SourceProvider,
				Description: fmt.Sprintf("%s did not answer: %v", profile.Name, redactURL(err))}
		}
		if !retryable || attempt > 0 || profile.TokenFormat != relayproto.FormatPeatio || resp.StatusCode/100 == 2 {
			return resp, nil
		}
		// Small error answers are read to see whether the key died; the body
		// is handed back intact when the answer is returned.
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s's answer: %w", profile.Name, err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		code, _, _ := peatio.ParseError(body)
		switch {
		case code == peatioUnknownKey || code == peatioExpiredKey:
			if _, err := a.refresh(ctx, c, &gen); err != nil {
				return nil, err
			}
		case a.signer.ObserveError(body): // 2007: the clock offset is corrected
		default:
			return resp, nil
		}
	}
}

// redactURL drops the URL from a client error: a Peatio URL carries the
// access key and the signature.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// newProxyClient returns the client that forwards scripts' requests: it
// follows no redirect (one could leave allowed_hosts) and gives up on a
// provider that does not start answering within timeout. A body may stream
// for as long as it takes.
func newProxyClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	// Many scripts call one exchange at once: keep their connections alive
	// (the default of 2 idle per host makes a new TCP connection per call).
	t.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
