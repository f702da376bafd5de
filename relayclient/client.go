// Package relayclient speaks the relay's HTTP API for the device
// (docs/relay.md §2, §3): the provider list, authorize and redeem for the
// brokered flow (oauthflow.ConnectRelay runs it with a Client), and refresh
// and revoke with a fresh proof signed by the device key. Refusals are
// *oauthflow.Error with their source; a relay that cannot be reached or does
// not answer in time is ErrRelayUnreachable.
package relayclient

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// maxBody caps every answer read from the relay.
const maxBody = 1 << 20

// DefaultTimeout is Client.Timeout's default: twice the relay's default
// provider_timeout (15 s).
const DefaultTimeout = 30 * time.Second

// ErrRelayUnreachable reports that the relay could not be reached at all
// (connection refused, DNS, TLS, a cut connection) or did not answer in time.
var ErrRelayUnreachable = errors.New("relay unreachable")

// DeviceSigner is the device's Ed25519 key (the vault holds it). Sign must
// return an Ed25519 signature of msg by the key of PublicKey.
type DeviceSigner interface {
	PublicKey() ed25519.PublicKey
	Sign(msg []byte) ([]byte, error)
}

// Client speaks the relay's HTTP API (docs/relay.md §2, §3). Its exported
// fields are set once before use; after that it is safe for concurrent use.
type Client struct {
	// BaseURL is the relay's base URL: https, or http on a loopback host.
	BaseURL string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Device signs refresh and revoke proofs and is bound to every refresh
	// blob the relay hands out.
	Device DeviceSigner
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Timeout bounds each call, answer included; 0 means
	// DefaultTimeout. A relay that does not answer within it is
	// ErrRelayUnreachable, like one that cannot be reached (docs/socket-api.md).
	// It must exceed the relay's provider_timeout, after which the relay
	// answers a slow provider's call itself.
	Timeout time.Duration

	mu     sync.Mutex
	offset time.Duration // relay clock minus ours, from stale_proof; guarded by mu
}

// Providers fetches GET /v1/providers.
func (c *Client) Providers(ctx context.Context) ([]oauthflow.Provider, error) {
	var out struct {
		Providers []oauthflow.Provider `json:"providers"` // relayproto.ProvidersAnswer, read as the device's Provider
	}
	if err := c.do(ctx, http.MethodGet, "/v1/providers", nil, "", &out); err != nil {
		return nil, fmt.Errorf("relay providers: %w", err)
	}
	return out.Providers, nil
}

// Authorize asks the relay to start a flow (POST /v1/authorize) and returns
// the provider's authorize URL to open in the browser. r names the provider,
// scopes, fields, loopback, state and S256 challenge; Authorize adds the
// method and the device key.
func (c *Client) Authorize(ctx context.Context, r relayproto.AuthorizeRequest) (string, error) {
	if c.Device == nil {
		return "", errors.New("relay authorize: no device key")
	}
	r.CodeChallengeMethod = "S256"
	r.DeviceKey = base64.RawURLEncoding.EncodeToString(c.Device.PublicKey())
	if r.Scopes == nil {
		r.Scopes = []string{} // JSON [] rather than null
	}
	if r.Fields == nil {
		r.Fields = map[string]string{}
	}
	var out relayproto.AuthorizeAnswer
	if err := c.do(ctx, http.MethodPost, "/v1/authorize", r, "", &out); err != nil {
		return "", fmt.Errorf("relay authorize: %w", err)
	}
	if _, err := relayproto.CheckURL(out.AuthorizeURL); err != nil {
		return "", fmt.Errorf("relay authorize: authorize_url: %w", err)
	}
	return out.AuthorizeURL, nil
}

// Redeem trades a flow result and the PKCE verifier for tokens
// (POST /v1/redeem). p gives the token format and default lifetime;
// requested are the scopes the user asked for.
func (c *Client) Redeem(ctx context.Context, p oauthflow.Provider, requested []string, result, codeVerifier string) (*oauthflow.Token, error) {
	body := relayproto.RedeemRequest{Result: result, CodeVerifier: codeVerifier}
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodPost, "/v1/redeem", body, "", &raw); err != nil {
		return nil, fmt.Errorf("relay redeem: %w", err)
	}
	tok, err := oauthflow.TokenFromAnswer(raw, p, requested, nil, c.now())
	clear(raw)
	if err != nil {
		return nil, fmt.Errorf("relay redeem: %w", err)
	}
	return tok, nil
}

// Refresh renews old through the relay (POST /v1/refresh) with old.RefreshCredential,
// the sealed blob, and a fresh proof; the answer holds a new blob. When the
// answer names no scope, the old granted scopes stay (RFC 6749 §6).
// A stale_proof answer corrects the clock offset and is retried once.
func (c *Client) Refresh(ctx context.Context, p oauthflow.Provider, old *oauthflow.Token) (*oauthflow.Token, error) {
	if old == nil || old.RefreshCredential == "" {
		return nil, errors.New("relay refresh: no refresh blob")
	}
	var raw json.RawMessage
	err := c.withProof(ctx, relayproto.OpRefresh, old.RefreshCredential, func(proof *relayproto.Proof) error {
		body := relayproto.RefreshRequest{Provider: p.ID, Refresh: old.RefreshCredential, Proof: proof}
		return c.do(ctx, http.MethodPost, "/v1/refresh", body, old.RefreshCredential, &raw)
	})
	if err != nil {
		return nil, fmt.Errorf("relay refresh: %w", err)
	}
	tok, err := oauthflow.TokenFromAnswer(raw, p, old.ScopesRequested, old.ScopesGranted, c.now())
	clear(raw)
	if err != nil {
		return nil, fmt.Errorf("relay refresh: %w", err)
	}
	return tok, nil
}

// Revoke revokes tok at the provider through the relay (POST /v1/revoke)
// with tok.RefreshCredential and tok.AccessToken; nil means the provider accepted.
func (c *Client) Revoke(ctx context.Context, p oauthflow.Provider, tok *oauthflow.Token) error {
	if tok == nil || tok.RefreshCredential == "" {
		return errors.New("relay revoke: no refresh blob")
	}
	err := c.withProof(ctx, relayproto.OpRevoke, tok.RefreshCredential, func(proof *relayproto.Proof) error {
		body := relayproto.RevokeRequest{Provider: p.ID, Refresh: tok.RefreshCredential, AccessToken: tok.AccessToken, Proof: proof}
		return c.do(ctx, http.MethodPost, "/v1/revoke", body, tok.RefreshCredential, nil)
	})
	if err != nil {
		return fmt.Errorf("relay revoke: %w", err)
	}
	return nil
}

// ClockOffset returns the relay's clock minus ours, as learnt from
// stale_proof answers.
func (c *Client) ClockOffset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// withProof runs call with a fresh proof for op over blob; a 401
// stale_proof carrying server_time sets the offset and retries once with
// another fresh proof.
//
// A call that failed on a kept connection before any byte of an answer
// (errKeptConnLost: the relay restarted, or served the call and the answer
// was lost) is also sent once more, with a fresh proof, on a new connection
// (the kept ones are closed). Only refresh and revoke go through here, and
// both are safe to send twice: the relay keeps a refresh's answer for a
// retry of the same blob (relayproto.AnswerWindow), and a provider accepts
// a second revocation (RFC 7009 §2.2). net/http's own replay of such a
// request (it replays a POST carrying an Idempotency-Key header) would
// resend the same proof, which the relay refuses as replayed_proof when the
// first attempt did reach it. When the second attempt cannot even connect,
// the first error is returned: the call may still have reached the relay.
func (c *Client) withProof(ctx context.Context, op, blob string, call func(*relayproto.Proof) error) error {
	clockRetried, connRetried := false, false
	var first error
	for {
		proof, err := c.proof(op, blob)
		if err != nil {
			return err
		}
		err = call(proof)
		var e *oauthflow.Error
		switch {
		case !clockRetried && errors.As(err, &e) && e.Code == "stale_proof" && e.ServerTime > 0:
			clockRetried = true
			c.mu.Lock()
			c.offset = time.Unix(e.ServerTime, 0).Sub(c.localNow())
			c.mu.Unlock()
			continue
		case !connRetried && errors.Is(err, errKeptConnLost):
			// The other kept connections likely died with it (a restart).
			c.httpClient().CloseIdleConnections()
			connRetried, first = true, err
			continue
		case first != nil && isDialError(err):
			return first
		}
		return err
	}
}

// errKeptConnLost marks a call that failed on a reused connection before
// any byte of an answer arrived.
var errKeptConnLost = errors.New("the kept connection was lost")

// isDialError reports whether err is a failure to connect at all: the
// request was never sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// proof signs a fresh proof for op over blob (relayproto.ProofMessage) with
// the corrected Unix time.
func (c *Client) proof(op, blob string) (*relayproto.Proof, error) {
	if c.Device == nil {
		return nil, errors.New("no device key")
	}
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, fmt.Errorf("proof nonce: %w", err)
	}
	p := &relayproto.Proof{
		TS:    json.Number(strconv.FormatInt(c.now().Unix(), 10)),
		Nonce: base64.RawURLEncoding.EncodeToString(n[:]),
	}
	sig, err := c.Device.Sign(relayproto.ProofMessage(op, blob, string(p.TS), p.Nonce))
	if err != nil {
		return nil, fmt.Errorf("sign proof: %w", err)
	}
	p.Sig = base64.RawURLEncoding.EncodeToString(sig)
	return p, nil
}

// localNow is our clock; now is it corrected by the relay's offset.
func (c *Client) localNow() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) now() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return c.localNow().Add(off)
}

// do sends one JSON request and decodes a 2xx answer into out (nil: the
// answer is ignored). Transport failures wrap ErrRelayUnreachable; error
// answers become *oauthflow.Error.
func (c *Client) do(ctx context.Context, method, path string, in any, blob string, out any) error {
	base, err := relayproto.CheckURL(c.BaseURL)
	if err != nil {
		return fmt.Errorf("relay url: %w", err)
	}
	u := base.JoinPath(path)
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(callCtx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if blob != "" {
		req.Header.Set("X-Tokentray-Blob", relayproto.BlobHash(blob))
	}
	hc := c.httpClient()
	var reused, answered atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(callCtx, &httptrace.ClientTrace{
		GotConn:              func(i httptrace.GotConnInfo) { reused.Store(i.Reused) },
		GotFirstResponseByte: func() { answered.Store(true) },
	}))
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a query
		}
		if reused.Load() && !answered.Load() && callCtx.Err() == nil {
			err = fmt.Errorf("%w: %w", errKeptConnLost, err)
		}
		return unreachable(ctx, callCtx, method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	defer clear(data) // a redeem or refresh answer holds the keys; out has its own copy
	if err != nil {
		return unreachable(ctx, callCtx, method, path, fmt.Errorf("read answer: %w", err))
	}
	if len(data) > maxBody {
		return fmt.Errorf("%s %s: answer over %d bytes: %w", method, path, maxBody, oauthflow.ErrBadResponse)
	}
	if resp.StatusCode/100 != 2 {
		return relayError(resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: answer is not the expected JSON: %w", method, path, oauthflow.ErrBadResponse)
	}
	return nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return http.DefaultClient
	}
	return c.HTTPClient
}

// unreachable is the error of a call that got no (whole) answer: the
// caller's cancellation as it is, else ErrRelayUnreachable, also when the
// relay did not answer in time (then it wraps context.DeadlineExceeded too).
func unreachable(ctx, callCtx context.Context, method, path string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if callCtx.Err() != nil {
		return fmt.Errorf("%s %s: %w: no answer in time: %w", method, path, ErrRelayUnreachable, context.DeadlineExceeded)
	}
	return fmt.Errorf("%s %s: %w: %w", method, path, ErrRelayUnreachable, err)
}

// relayError turns an error answer into *oauthflow.Error. A body that is not the
// contract's error shape still yields an *oauthflow.Error (code "http_STATUS"),
// without quoting the body.
func relayError(status int, data []byte) error {
	var b relayproto.ErrorBody
	if err := json.Unmarshal(data, &b); err != nil || b.Code == "" {
		return &oauthflow.Error{Code: "http_" + strconv.Itoa(status), Description: http.StatusText(status), Source: relayproto.SourceRelay, HTTPStatus: status}
	}
	if b.Source != relayproto.SourceProvider {
		b.Source = relayproto.SourceRelay
	}
	return &oauthflow.Error{Code: b.Code, Description: b.Description, Source: b.Source, HTTPStatus: status,
		ProviderStatus: b.ProviderStatus, ServerTime: b.ServerTime}
}
