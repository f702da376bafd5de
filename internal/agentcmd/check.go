package agentcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokentray/tokentray/internal/cli"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayproto"
)

// checkTimeout bounds the whole of demo --check.
const checkTimeout = 2 * time.Minute

// checker runs the steps of demo --check, one line each on stderr.
type checker struct {
	env   cli.Env
	n     int
	total int
}

// step runs f and prints "ok" or "FAIL" with what it did; it reports
// whether f succeeded.
func (c *checker) step(what string, f func() (string, error)) bool {
	c.n++
	detail, err := f()
	if err != nil {
		fmt.Fprintf(c.env.Stderr, "demo --check: FAIL %d/%d %s: %s\n", c.n, c.total, what, err)
		return false
	}
	if detail != "" {
		detail = ": " + detail
	}
	fmt.Fprintf(c.env.Stderr, "demo --check: ok   %d/%d %s%s\n", c.n, c.total, what, detail)
	return true
}

// runCheck runs the whole story headless: start, connect, read the key,
// sign and call the exchange, refresh, revoke. Like every demo it serves
// $TOKENTRAY_SOCK when set and prints the export line on stdout
// (docs/cli.md); but when an agent already answers there, the check takes a socket of
// its own rather than meet that agent.
func runCheck(ctx context.Context, env cli.Env) int {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	c := &checker{env: env, total: 6}
	socket := env.Getenv("TOKENTRAY_SOCK")
	if socket != "" {
		if _, err := localclient.NewClient(socket).Status(ctx); !errors.Is(err, localclient.ErrAgentNotRunning) {
			fmt.Fprintf(env.Stderr, "demo --check: an agent answers on %s; the check uses a socket of its own\n", socket)
			socket = ""
		}
	}
	var d *demo
	ok := c.step("start the simulated exchange, relay and agent (memory vault)", func() (string, error) {
		var err error
		d, err = startDemo(ctx, env, demoOptions{
			socket:   socket,
			approval: fakeexchange.AutoApprove,
			open:     followOpener,
			logger:   slog.New(slog.DiscardHandler),
		})
		if err != nil {
			return "", err
		}
		return "exchange " + d.Stack.ExchangeURL + ", relay " + d.Stack.RelayURL, nil
	})
	if !ok {
		return cli.ExitError
	}
	defer d.close()
	fmt.Fprintf(env.Stdout, "export TOKENTRAY_SOCK=%s\nexport TOKENTRAY_EXCHANGE=%s\n",
		shellQuote(d.Socket), shellQuote(d.Stack.ExchangeURL))
	s := &story{agent: d.Client, exchange: d.Stack.ExchangeURL}
	for _, st := range []struct {
		what string
		f    func(context.Context) (string, error)
	}{
		{"connect " + devstack.ProviderID + " through the relay (consent auto-approved)", s.connect},
		{"read the key over the socket", s.readKey},
		{"sign and call /api/v2/members/me", s.callMe},
		{"refresh: the key rotates and the old key answers 2008", s.refresh},
		{"revoke: the connection is gone and its key answers 2008", s.revoke},
	} {
		if !c.step(st.what, func() (string, error) { return st.f(ctx) }) {
			return cli.ExitError
		}
	}
	fmt.Fprintln(env.Stderr, "demo --check: the whole story works")
	return cli.ExitOK
}

// story is the state carried from one step of the check to the next. The
// keys never reach a message.
type story struct {
	agent    *localclient.Client
	exchange string
	conn     *localclient.Connection
	key      *localclient.Token
}

func (s *story) connect(ctx context.Context) (string, error) {
	sawURL := false
	conn, err := s.agent.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID},
		func(string) { sawURL = true })
	if err != nil {
		return "", err
	}
	if !sawURL {
		return "", errors.New("the agent never sent the authorize URL")
	}
	if conn.State != localclient.StateConnected {
		return "", fmt.Errorf("connection %s is %s, want connected", conn.ID, conn.State)
	}
	s.conn = conn
	return fmt.Sprintf("%q (%s), scopes %s", conn.Label, conn.ID, strings.Join(conn.ScopesGranted, ",")), nil
}

func (s *story) readKey(ctx context.Context) (string, error) {
	tok, err := s.agent.Token(ctx, s.conn.ID, 0)
	if err != nil {
		return "", err
	}
	if tok.TokenType != relayproto.FormatPeatio || tok.AccessKey == "" || tok.SecretKey == "" {
		return "", fmt.Errorf("the agent answered a %q token without an access and secret key", tok.TokenType)
	}
	s.key = tok
	return fmt.Sprintf("a %s key of generation %d, valid until %s", tok.TokenType, tok.Generation, tok.ExpiresAt.Format(time.RFC3339)), nil
}

// callMe signs a call of /api/v2/members/me through /sign and sends it to the
// exchange itself, then makes the same call through the agent's proxy.
func (s *story) callMe(ctx context.Context) (string, error) {
	signed, err := s.agent.Sign(ctx, s.conn.ID, localclient.SignRequest{Method: http.MethodGet, Path: "/api/v2/members/me"})
	if err != nil {
		return "", err
	}
	if err := s.get(ctx, s.exchange+"/api/v2/members/me?"+signed.Query); err != nil {
		return "", fmt.Errorf("signed by /sign: %w", err)
	}
	resp, err := s.agent.Proxy(ctx, s.conn.ID, http.MethodGet, "members/me", nil)
	if err != nil {
		return "", fmt.Errorf("through the proxy: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		code, msg := cli.PeatioError(body)
		return "", fmt.Errorf("through the proxy: the exchange answered %d: error %d: %s", resp.StatusCode, code, msg)
	}
	return "200 OK, signed by /sign and through the proxy", nil
}

// get calls the exchange at u and wants 200.
func (s *story) get(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errors.New("the exchange did not answer") // the URL holds the signature: not in the error
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		code, msg := cli.PeatioError(body)
		return fmt.Errorf("the exchange answered %d: error %d: %s", resp.StatusCode, code, msg)
	}
	return nil
}

func (s *story) refresh(ctx context.Context) (string, error) {
	conn, err := s.agent.Refresh(ctx, s.conn.ID, nil)
	if err != nil {
		return "", err
	}
	if conn.Generation <= s.conn.Generation {
		return "", fmt.Errorf("generation %d after the refresh, want more than %d", conn.Generation, s.conn.Generation)
	}
	tok, err := s.agent.Token(ctx, s.conn.ID, 0)
	if err != nil {
		return "", err
	}
	if tok.AccessKey == s.key.AccessKey {
		return "", errors.New("the access key did not change")
	}
	if err := s.expectDead(ctx, s.key); err != nil {
		return "", fmt.Errorf("the old key: %w", err)
	}
	if _, err := s.callMe(ctx); err != nil {
		return "", fmt.Errorf("the new key: %w", err)
	}
	s.conn, s.key = conn, tok
	return fmt.Sprintf("generation %d; the new key works", conn.Generation), nil
}

func (s *story) revoke(ctx context.Context) (string, error) {
	res, err := s.agent.Revoke(ctx, s.conn.ID)
	if err != nil {
		return "", err
	}
	if !res.RevokedAtProvider {
		return "", fmt.Errorf("not revoked at the provider: %s", res.Message)
	}
	if _, err := s.agent.Connection(ctx, s.conn.ID); !errors.Is(err, localclient.ErrNotFound) {
		return "", fmt.Errorf("the agent still knows the connection (%v)", err)
	}
	if err := s.expectDead(ctx, s.key); err != nil {
		return "", err
	}
	return "revoked at the provider", nil
}

// expectDead calls /api/v2/members/me signed with key itself and wants the
// exchange's 2008 (no such key).
func (s *story) expectDead(ctx context.Context, key *localclient.Token) error {
	q, err := (&peatio.Signer{}).Sign(http.MethodGet, "/api/v2/members/me", url.Values{},
		key.AccessKey, key.SecretKey, nil)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.exchange+"/api/v2/members/me?"+q.Query, nil)
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return errors.New("the exchange did not answer")
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if code, _ := cli.PeatioError(body); code != 2008 { // no such key
		return fmt.Errorf("the exchange answered %d with error code %d, want 2008", resp.StatusCode, code)
	}
	return nil
}
