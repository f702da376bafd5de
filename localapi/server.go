package localapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/safesocket"
)

// maxBody caps request bodies; no request of this API needs more.
const maxBody = 64 << 10

// Server serves the socket API over an agent.
type Server struct {
	agent   *agent.Agent
	log     *slog.Logger
	mux     *http.ServeMux
	cliExes []string
	ids     *appid.Identifier
	peers   sync.Map // net.Conn → *connPeer
}

// NewServer returns the API handler for a. log may be nil.
func NewServer(a *agent.Agent, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{agent: a, log: log, mux: http.NewServeMux()}
	for _, o := range opts {
		o(s)
	}
	s.ids = appid.New(appid.Config{CLIExecutables: s.cliExes})
	s.routes()
	return s
}

// routes is the route table: one serveX per route. Methods are checked by the
// handlers themselves, so that a wrong one gets this API's JSON error body.
func (s *Server) routes() {
	s.mux.HandleFunc("/v1/status", s.serveStatus)
	s.mux.HandleFunc("/v1/providers", s.serveProviders)
	s.mux.HandleFunc("/v1/connections", s.serveConnections)
	s.mux.HandleFunc("/v1/connections/{id}", s.serveConnection)
	s.mux.HandleFunc("/v1/connections/{id}/token", s.serveToken)
	s.mux.HandleFunc("/v1/token", s.serveOnlyToken)
	s.mux.HandleFunc("/v1/connections/{id}/sign", s.serveSign)
	s.mux.HandleFunc("/v1/connections/{id}/refresh", s.serveRefresh)
	s.mux.HandleFunc("/v1/connect", s.serveConnect)
	s.mux.HandleFunc("/v1/activity", s.serveActivity)
	s.mux.HandleFunc("/v1/events", s.serveEvents)
	s.mux.HandleFunc("/v1/settings", s.serveSettings)
	s.mux.HandleFunc("/v1/apps", s.serveApps)
	s.mux.HandleFunc("/v1/apps/{id}", s.serveApp)
	s.mux.HandleFunc("/v1/apps/proposals", s.serveProposals)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, localclient.CodeNotFound, fmt.Sprintf("no such endpoint: %s", r.URL.Path))
	})
}

// ServeHTTP refuses requests from web pages, caps the body, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A browser adds Origin or Referer to what a web page sends; scripts and
	// the CLI never do. Refusing them keeps pages away from the keys.
	// Present counts, empty or not.
	if r.Header.Values("Origin") != nil || r.Header.Values("Referer") != nil {
		writeError(w, localclient.CodeForbidden, "requests from web pages are refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	// Proxied paths are the agent's to judge (it refuses "..", "//" and
	// encoded tricks with a clear 403); the router would only clean them.
	if id, ok := proxyConnection(r.URL.EscapedPath()); ok {
		r.SetPathValue("id", id)
		s.serveProxy(w, r)
		return
	}
	limitBodyTime(w, r)
	// ServeMux would answer an unclean path ("//", "/./", "/../") with a
	// redirect, which no client of this API follows usefully.
	if p := r.URL.Path; p == "" || path.Clean(p) != p {
		writeError(w, localclient.CodeNotFound, fmt.Sprintf("no such endpoint: %q", p))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Serve answers on ln until ctx ends, then shuts down, giving requests in
// flight up to 5 seconds. Streams (/v1/events, /v1/connect) end at once when
// the shutdown begins: they would otherwise hold it for the whole 5 seconds.
// ln normally comes from safesocket.Listen.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	safesocket.SetLogger(ln, s.log) // refused peers go to the agent's log, not slog.Default
	stop := make(chan struct{})     // closed when the shutdown begins
	base := context.WithValue(context.Background(), stopKey{}, (<-chan struct{})(stop))
	srv := &http.Server{
		Handler:           s,
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext:       s.connContext,
		ConnState:         s.connState,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	srv.RegisterOnShutdown(func() { close(stop) })
	served := make(chan struct{}) // closed when srv.Serve returns
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
		case <-served: // the listener failed: nothing to shut down
			return
		}
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	err := srv.Serve(ln)
	close(served)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

type stopKey struct{}

// streamContext returns a context for a streaming handler: it ends when the
// client leaves or the server begins to shut down.
func streamContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	if stop, ok := r.Context().Value(stopKey{}).(<-chan struct{}); ok {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	return ctx, cancel
}

// allow checks the request's method; on a wrong one it answers 405 with the
// API's error body and returns false.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeErrorStatus(w, http.StatusMethodNotAllowed, localclient.CodeBadRequest,
		fmt.Sprintf("method %s is not allowed here; use %s", r.Method, strings.Join(methods, " or ")))
	return false
}

// logActivity appends the request to the agent's activity log.
func (s *Server) logActivity(r *http.Request, connection, op string) {
	s.logCall(r, connection, op, "", "")
}

// logCall is logActivity for sign and proxy, with the exchange call's
// method and path (a proxied path relative to api_base; the agent makes it
// absolute).
func (s *Server) logCall(r *http.Request, connection, op, method, path string) {
	p, _ := safesocket.PeerFromContext(r.Context())
	s.agent.LogActivity(agent.Activity{PID: p.PID, Exe: p.Exe, Connection: connection, Op: op, Method: strings.ToUpper(method), Path: path})
}

// wireActivity is an activity entry as the socket writes it.
func wireActivity(a agent.Activity) localclient.Activity {
	return localclient.Activity{Time: a.Time.UTC(), PID: a.PID, Exe: a.Exe, Connection: a.Connection, Label: a.Label,
		Op: a.Op, Method: a.Method, Path: a.Path}
}

// writeAgentError answers with the API's error body for an agent error.
// Agent errors carry no secret, so their text goes to the caller as it is.
func writeAgentError(w http.ResponseWriter, err error) {
	writeError(w, codeOf(err), err.Error())
}

// codeOf maps an agent error to the API's error codes.
func codeOf(err error) string {
	var oe *oauthflow.Error
	if code, ok := approvalCode(err); ok {
		return code
	}
	switch {
	case errors.Is(err, agent.ErrNotFound), errors.Is(err, agent.ErrUnknownProvider):
		return localclient.CodeNotFound
	case errors.Is(err, agent.ErrNeedsReconnect):
		return localclient.CodeNeedsReconnect
	case errors.Is(err, agent.ErrForbidden):
		return localclient.CodeForbidden
	case errors.Is(err, agent.ErrBadRequest), errors.Is(err, agent.ErrAmbiguous):
		return localclient.CodeBadRequest
	case errors.Is(err, agent.ErrRelayUnreachable), errors.Is(err, agent.ErrNoRelay):
		return localclient.CodeRelayUnreachable
	case errors.As(err, &oe), errors.Is(err, oauthflow.ErrTimeout),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return localclient.CodeProviderError
	default:
		return localclient.CodeInternal
	}
}
