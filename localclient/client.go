// Package localclient is the Go client of the tokentray agent's socket API
// and the JSON bodies it speaks (docs/socket-api.md). It imports nothing of
// the agent, so a program that only calls the agent (the tokentray CLI, the
// tray window, a trading script) stays small and starts fast.
package localclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client calls the agent over its Unix socket. The zero value uses
// SocketPath(os.Getenv). A Client is safe for concurrent use and keeps its
// connections alive between calls.
type Client struct {
	// Socket is the path of the agent's socket; "" means SocketPath(os.Getenv).
	Socket string

	once sync.Once
	t    *transport
}

// NewClient returns a client for the socket at path ("" for the default).
func NewClient(path string) *Client { return &Client{Socket: path} }

func (c *Client) transport() *transport {
	c.once.Do(func() {
		path := c.Socket
		if path == "" {
			path = SocketPath(os.Getenv)
		}
		c.t = &transport{path: path}
	})
	return c.t
}

// CloseIdleConnections closes the connections kept for the next call.
func (c *Client) CloseIdleConnections() { c.transport().closeIdle() }

func connPath(id string, rest ...string) string {
	return "/v1/connections/" + url.PathEscape(id) + strings.Join(rest, "")
}

// do sends one request and decodes a 2xx JSON answer into out (if non-nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	// Read the whole body, so that the connection is free for the next call.
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read agent answer to %s %s: %w", method, path, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode agent answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send sends one request and returns a 2xx response; any other status
// becomes an *Error.
func (c *Client) send(ctx context.Context, method, path string, in any) (*Response, error) {
	req := request{method: method, path: path}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		req.body, req.contentType = b, "application/json"
	}
	resp, err := c.transport().roundTrip(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, decodeError(resp)
}

// decodeError turns an error answer into an *Error.
func decodeError(resp *Response) error {
	var body struct {
		Error ErrorBody `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code == "" {
		return &Error{Code: CodeInternal, Status: resp.StatusCode,
			Message: "agent answered " + resp.Status}
	}
	return &Error{Code: body.Error.Code, Message: body.Error.Message, Status: resp.StatusCode}
}

// Status returns the agent's version, pid and number of connections.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var s Status
	return &s, c.do(ctx, "GET", "/v1/status", nil, &s)
}

// Providers returns the providers a connection can be made with.
func (c *Client) Providers(ctx context.Context) ([]Provider, error) {
	var body struct {
		Providers []Provider `json:"providers"`
	}
	return body.Providers, c.do(ctx, "GET", "/v1/providers", nil, &body)
}

// Connections lists the connections.
func (c *Client) Connections(ctx context.Context) ([]Connection, error) {
	var body struct {
		Connections []Connection `json:"connections"`
	}
	return body.Connections, c.do(ctx, "GET", "/v1/connections", nil, &body)
}

// Connection returns one connection, by id or by provider id when exactly one
// connection of that provider exists.
func (c *Client) Connection(ctx context.Context, id string) (*Connection, error) {
	var conn Connection
	return &conn, c.do(ctx, "GET", connPath(id), nil, &conn)
}

// UpdateConnection renames a connection or changes whether scripts may read
// its raw keys.
func (c *Client) UpdateConnection(ctx context.Context, id string, p ConnectionPatch) (*Connection, error) {
	var conn Connection
	return &conn, c.do(ctx, "PATCH", connPath(id), p, &conn)
}

// Token returns the connection's current key, refreshed first if it would
// expire within minValid (0: any valid key).
func (c *Client) Token(ctx context.Context, id string, minValid time.Duration) (*Token, error) {
	return c.token(ctx, connPath(id, "/token"), minValid)
}

// OnlyToken is Token for the only connection, in one request. With several
// connections it fails with ErrBadRequest, naming them; with none, with
// ErrNotFound.
func (c *Client) OnlyToken(ctx context.Context, minValid time.Duration) (*Token, error) {
	return c.token(ctx, "/v1/token", minValid)
}

func (c *Client) token(ctx context.Context, path string, minValid time.Duration) (*Token, error) {
	if minValid > 0 {
		path += "?min_valid=" + strconv.FormatInt(int64(minValid/time.Second), 10)
	}
	var t Token
	return &t, c.do(ctx, "GET", path, nil, &t)
}

// Sign signs a request for the exchange with the connection's key.
func (c *Client) Sign(ctx context.Context, id string, r SignRequest) (*Signed, error) {
	var s Signed
	return &s, c.do(ctx, "POST", connPath(id, "/sign"), r, &s)
}

// Refresh refreshes the connection's key. With ifGeneration set it refreshes
// only if that generation is still current.
func (c *Client) Refresh(ctx context.Context, id string, ifGeneration *int64) (*Connection, error) {
	var conn Connection
	return &conn, c.do(ctx, "POST", connPath(id, "/refresh"), RefreshRequest{IfGeneration: ifGeneration}, &conn)
}

// Revoke revokes the connection at the provider and wipes it locally.
func (c *Client) Revoke(ctx context.Context, id string) (*RevokeResult, error) {
	var r RevokeResult
	return &r, c.do(ctx, "DELETE", connPath(id), nil, &r)
}

// Connect starts a connection. onURL, if non-nil, gets the authorize URL as
// soon as the agent knows it; Connect returns when the flow ends.
func (c *Client) Connect(ctx context.Context, r ConnectRequest, onURL func(string)) (*Connection, error) {
	resp, err := c.send(ctx, "POST", "/v1/connect", r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line ConnectLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, fmt.Errorf("decode connect stream: %w", err)
		}
		switch {
		case line.Error != nil:
			return nil, &Error{Code: line.Error.Code, Message: line.Error.Message}
		case line.Connection != nil:
			return line.Connection, nil
		case line.AuthorizeURL != "" && onURL != nil:
			onURL(line.AuthorizeURL)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read connect stream: %w", err)
	}
	return nil, errors.New("the agent ended the connect stream without a result")
}

// Activity returns the recorded accesses, newest first.
func (c *Client) Activity(ctx context.Context) ([]Activity, error) {
	var body struct {
		Activity []Activity `json:"activity"`
	}
	return body.Activity, c.do(ctx, "GET", "/v1/activity", nil, &body)
}

// Settings returns the agent-wide settings.
func (c *Client) Settings(ctx context.Context) (*Settings, error) {
	var s Settings
	return &s, c.do(ctx, "GET", "/v1/settings", nil, &s)
}

// UpdateSettings changes the agent-wide settings.
func (c *Client) UpdateSettings(ctx context.Context, p SettingsPatch) (*Settings, error) {
	var s Settings
	return &s, c.do(ctx, "PATCH", "/v1/settings", p, &s)
}

// Apps returns the app grants (GET /v1/apps).
func (c *Client) Apps(ctx context.Context) ([]App, error) {
	var r struct {
		Apps []App `json:"apps"`
	}
	return r.Apps, c.do(ctx, "GET", "/v1/apps", nil, &r)
}

// RevokeApp removes the app grant id: the app is asked again.
func (c *Client) RevokeApp(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/v1/apps/"+url.PathEscape(id), nil, nil)
}

// ProposeApp asks for a human to approve an app in the tray: a proposal,
// never a grant.
func (c *Client) ProposeApp(ctx context.Context, r ProposalRequest) (*Proposal, error) {
	var p Proposal
	return &p, c.do(ctx, "POST", "/v1/apps/proposals", r, &p)
}

// Events calls fn for every event until ctx ends or the stream breaks; it
// returns nil when ctx ended it, and ErrEventsMissed when the agent ended it
// because this client fell behind.
func (c *Client) Events(ctx context.Context, fn func(Event)) error {
	return c.EventsAfter(ctx, nil, fn)
}

// EventsAfter is Events with a first step: once the agent has subscribed
// this stream, and before any event is read, it calls opened (when not nil)
// and stops with its error. A view that loads its state in opened misses no
// change: whatever happens after the load arrives as an event. When the
// agent ends the stream because this client fell behind, EventsAfter
// subscribes again and calls opened again, so the view reloads what it
// missed; without opened it returns ErrEventsMissed.
func (c *Client) EventsAfter(ctx context.Context, opened func() error, fn func(Event)) error {
	for {
		err := c.followEvents(ctx, opened, fn)
		if err != ErrEventsMissed || opened == nil || ctx.Err() != nil {
			return err
		}
	}
}

// followEvents reads one event stream.
func (c *Client) followEvents(ctx context.Context, opened func() error, fn func(Event)) error {
	resp, err := c.send(ctx, "GET", "/v1/events", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if opened != nil {
		if err := opened(); err != nil {
			return err
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var typ string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case line == "" && typ == "resync":
			return ErrEventsMissed
		case strings.HasPrefix(line, "data: "):
			ev := Event{Type: typ}
			var into any = &ev.Connection
			if typ == "activity" {
				ev.Activity = &Activity{}
				into = ev.Activity
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), into); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			fn(ev)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	if typ == "resync" {
		return ErrEventsMissed
	}
	return errors.New("the agent closed the event stream")
}

// Proxy sends a request through the agent's signing proxy (ANY
// /v1/connections/{id}/proxy/{rel}): rel is relative to the connection's
// api_base ("members/me"); params go in the query for GET, HEAD and DELETE,
// else in a form body. The provider's answer comes back as it is, whatever
// its status; the agent's own refusals (unknown connection, a refused path,
// a dead grant) are an *Error. The caller closes the body.
func (c *Client) Proxy(ctx context.Context, id, method, rel string, params url.Values) (*Response, error) {
	req := request{method: strings.ToUpper(method), path: connPath(id, "/proxy/", strings.TrimPrefix(rel, "/"))}
	switch req.method {
	case "GET", "HEAD", "DELETE":
		if len(params) > 0 {
			req.path += "?" + params.Encode()
		}
	default:
		req.body, req.contentType = []byte(params.Encode()), "application/x-www-form-urlencoded"
	}
	resp, err := c.transport().roundTrip(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Header.Get(ErrorHeader) != "" {
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	return resp, nil
}
