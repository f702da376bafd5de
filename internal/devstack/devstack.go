// Package devstack runs the simulated EXchange and a real relay in-process on
// loopback ports: the world that tokentray's tests and `tokentray demo` talk
// to. Nothing leaves the machine.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/relay"
	"github.com/tokentray/tokentray/relayproto"
)

// ProviderID is the id of the simulated exchange at the relay.
const ProviderID = "exchange"

// Options configure a Stack. Dir is required.
type Options struct {
	// Dir holds the relay's seal key file.
	Dir string
	// Now is the clock of the exchange and the relay. Default time.Now.
	Now func() time.Time
	// KeyLifetime is how long the exchange's keys live. Default 4h.
	KeyLifetime time.Duration
	// Approval is how the exchange's consent page answers. Default Manual.
	Approval fakeexchange.Approval
	// Logger gets the relay's log. Default: discarded.
	Logger *slog.Logger
	// Fields, Label and DefaultParams change the relay's provider profile;
	// by default it has no fields, the label "{{.name}}'s EXchange" and no
	// default parameters.
	Fields        []relayproto.Field
	Label         string
	DefaultParams map[string]string
}

// Stack is a running simulated exchange and relay.
type Stack struct {
	Exchange    *fakeexchange.Exchange
	ExchangeURL string // http://127.0.0.1:PORT
	Relay       *relay.Server
	RelayURL    string // http://127.0.0.1:PORT

	dropNext atomic.Int32 // relay answers to compute and then lose

	mu         sync.Mutex // guards the fields below
	servers    []*http.Server
	relaySrv   *http.Server // nil while the relay is down
	relayCalls map[string]int
}

// Start starts the exchange and the relay.
func Start(opts Options) (*Stack, error) {
	if opts.Dir == "" {
		return nil, errors.New("devstack: no folder for the seal keys")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{}
	exLn, err := listen()
	if err != nil {
		return nil, err
	}
	relayLn, err := listenOutsideEphemeral()
	if err != nil {
		exLn.Close()
		return nil, err
	}
	s.ExchangeURL = "http://" + exLn.Addr().String()
	s.RelayURL = "http://" + relayLn.Addr().String()

	secret := randomString(24)
	s.Exchange = fakeexchange.New(fakeexchange.Config{
		ClientSecret: secret,
		RedirectURIs: []string{s.RelayURL + "/v1/callback"},
		KeyLifetime:  opts.KeyLifetime,
		Now:          opts.Now,
	})
	s.Exchange.SetApproval(opts.Approval)

	keys := filepath.Join(opts.Dir, "seal.keys")
	key := make([]byte, 32)
	rand.Read(key)
	line := "k1 " + base64.StdEncoding.EncodeToString(key) + "\n"
	if err := os.WriteFile(keys, []byte(line), 0o600); err != nil {
		return nil, fmt.Errorf("devstack: write seal keys: %w", err)
	}
	relayOpts := []relay.Option{relay.WithLogger(opts.Logger)}
	if opts.Now != nil {
		relayOpts = append(relayOpts, relay.WithClock(opts.Now))
	}
	s.Relay, err = relay.New(relayConfig(s, opts, keys, secret), relayOpts...)
	if err != nil {
		exLn.Close()
		relayLn.Close()
		return nil, fmt.Errorf("devstack: relay: %w", err)
	}
	s.serve(exLn, s.Exchange)
	s.relaySrv = s.serve(relayLn, http.HandlerFunc(s.serveRelay))
	return s, nil
}

// relayConfig is the relay's configuration for the simulated exchange, as an
// exchange's integration team would write it.
func relayConfig(s *Stack, opts Options, keys, secret string) *relay.Config {
	label := opts.Label
	if label == "" {
		label = "{{.name}}'s EXchange"
	}
	params := opts.DefaultParams
	if params == nil {
		params = map[string]string{}
	}
	return &relay.Config{
		Listen:                 s.RelayURL[len("http://"):],
		PublicURL:              s.RelayURL,
		SealKeysFile:           keys,
		RatePerMinute:          100000,
		ProviderCallsPerSecond: 1000,
		ProviderTimeout:        10 * time.Second,
		Providers: []relay.Provider{{
			ClientSecret: secret,
			Provider: relayproto.Provider{
				ID:              ProviderID,
				Name:            "EXchange",
				AuthorizeURL:    s.ExchangeURL + "/oauth/authorize",
				TokenURL:        s.ExchangeURL + "/oauth/token",
				RevokeURL:       s.ExchangeURL + "/oauth/revoke",
				RevokeStyle:     relayproto.RevokeDoorkeeper,
				ClientID:        "tokentray-demo",
				AuthStyle:       relayproto.AuthParams,
				TokenFormat:     relayproto.FormatPeatio,
				DefaultLifetime: relayproto.Duration(4 * time.Hour),
				APIBase:         s.ExchangeURL + "/api/v2",
				MePath:          "/members/me",
				Label:           label,
				AccountField:    "sn",
				AllowedHosts:    []string{"127.0.0.1"},
				DefaultParams:   params,
				Fields:          opts.Fields,
				Scopes: []relayproto.Scope{
					{Name: "profile", Description: "basic user information", Default: true, Required: true},
					{Name: "history", Description: "your orders and trades", Default: true},
					{Name: "trade", Description: "place and cancel orders"},
				},
			},
		}},
	}
}

// DropRelayAnswers makes the relay handle the next n requests fully (the
// provider is called, keys rotate) and then cut the connection instead of
// answering, as a network that fails at the worst moment would.
func (s *Stack) DropRelayAnswers(n int) { s.dropNext.Store(int32(n)) }

// DropsPending returns how many relay answers DropRelayAnswers still has to
// lose.
func (s *Stack) DropsPending() int { return int(max(s.dropNext.Load(), 0)) }

// SetRelayDown stops the relay (true): its port is closed, so connections are
// refused, as when a relay is down. False starts it again on the same port.
func (s *Stack) SetRelayDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case down && s.relaySrv != nil:
		s.relaySrv.Close()
		s.relaySrv = nil
	case !down && s.relaySrv == nil:
		ln, err := net.Listen("tcp", strings.TrimPrefix(s.RelayURL, "http://"))
		if err != nil {
			panic(fmt.Sprintf("devstack: the relay's port was taken while it was down: %v", err))
		}
		srv := &http.Server{Handler: http.HandlerFunc(s.serveRelay), ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.relaySrv = srv
		go srv.Serve(ln)
	}
}

// RelayCalls returns how many requests for path the relay has served.
func (s *Stack) RelayCalls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.relayCalls[path]
}

func (s *Stack) serveRelay(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.relayCalls == nil {
		s.relayCalls = make(map[string]int)
	}
	s.relayCalls[r.URL.Path]++
	s.mu.Unlock()
	if s.takeDrop() {
		s.Relay.ServeHTTP(httptest.NewRecorder(), r)
		cut(w)
		return
	}
	s.Relay.ServeHTTP(w, r)
}

// takeDrop reports whether this answer is one to lose.
func (s *Stack) takeDrop() bool {
	for {
		n := s.dropNext.Load()
		if n <= 0 {
			return false
		}
		if s.dropNext.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// cut closes the client's connection without an answer.
func cut(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	http.Error(w, "answer lost", http.StatusServiceUnavailable)
}

// Close stops both servers.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.Exchange.Close()
	s.mu.Lock()
	servers := s.servers
	s.mu.Unlock()
	for _, srv := range servers {
		srv.Shutdown(ctx)
	}
}

func (s *Stack) serve(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
	return srv
}

func listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("devstack: listen: %w", err)
	}
	return ln, nil
}

// listenOutsideEphemeral listens on a loopback port below the system's
// ephemeral range, where no outgoing connection is given a local port: the
// relay's port must still be free when SetRelayDown(false) binds it again,
// and on a busy machine a port of the ephemeral range is soon taken by some
// connection. Where the range is unknown, or 100 tries fail, any port will do.
func listenOutsideEphemeral() (net.Listener, error) {
	low := 32768 // Linux's default start of the ephemeral range
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	if low > 11000 {
		for range 100 {
			port := 10000 + mathrand.IntN(low-11000)
			if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				return ln, nil
			}
		}
	}
	return listen()
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
