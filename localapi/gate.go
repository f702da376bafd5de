package localapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
	"github.com/tokentray/tokentray/safesocket"
)

// Option configures a Server.
type Option func(*Server)

// WithCLIExecutables names the tokentray CLI's executables (the agent's own
// and the small `tokentray` beside it), so that app approval looks through
// the CLI to the script that ran it.
func WithCLIExecutables(paths ...string) Option {
	return func(s *Server) { s.cliExes = append(s.cliExes, paths...) }
}

// connPeer is the app behind one socket connection: the peer's process,
// pinned at accept (or at its first gated request), and the app it was last
// identified as, checked again on each request of a keep-alive connection.
type connPeer struct {
	conn net.Conn

	mu     sync.Mutex // guards the fields below
	peer   *appid.Peer
	pinErr error
	pinned bool
	app    appid.App
	known  bool
	closed bool
}

type connPeerKey struct{}

// connContext is the http.Server's ConnContext: the peer's credentials
// (safesocket) and a connPeer, pinned at once when approval is on.
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	ctx = safesocket.ConnContext(ctx, c)
	cp := &connPeer{conn: c}
	if s.agent.ApproveApps() {
		cp.mu.Lock()
		cp.pin()
		cp.mu.Unlock()
	}
	s.peers.Store(c, cp)
	return context.WithValue(ctx, connPeerKey{}, cp)
}

// connState closes a connection's pinned peer when the connection ends.
func (s *Server) connState(c net.Conn, st http.ConnState) {
	if st != http.StateClosed && st != http.StateHijacked {
		return
	}
	if v, ok := s.peers.LoadAndDelete(c); ok {
		cp := v.(*connPeer)
		cp.mu.Lock()
		cp.closed = true
		if cp.peer != nil {
			cp.peer.Close()
		}
		cp.mu.Unlock()
	}
}

// pin pins the peer's process once. cp.mu must be held.
func (cp *connPeer) pin() {
	if cp.pinned {
		return
	}
	cp.pinned = true
	uc := safesocket.UnixConn(cp.conn)
	if uc == nil {
		cp.pinErr = errors.New("not a socket connection")
		return
	}
	cp.peer, cp.pinErr = appid.PinConn(uc)
}

// identify names the app behind r's connection. Whatever cannot be read
// makes an unidentified app, which no grant lets through.
func (s *Server) identify(r *http.Request) appid.App {
	cp, _ := r.Context().Value(connPeerKey{}).(*connPeer)
	if cp == nil {
		return appid.App{Kind: appid.Unidentified, Name: "unknown", Reason: "not a socket connection"}
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.closed {
		return appid.App{Kind: appid.Unidentified, Name: "gone", Reason: "the connection ended"}
	}
	cp.pin()
	if cp.pinErr != nil {
		return appid.App{Kind: appid.Unidentified, Name: "unknown", Reason: "its process could not be pinned: " + cp.pinErr.Error()}
	}
	var app appid.App
	var err error
	if cp.known {
		app, err = s.ids.Recheck(cp.peer, cp.app)
	} else {
		app, err = s.ids.Identify(cp.peer)
	}
	if err != nil {
		cp.known = false
		return app // unidentified: ErrExited
	}
	cp.app, cp.known = app, true
	return app
}

// gate asks the agent whether the app behind r may use connection id for
// op; when it may not, it answers approval_required or denied and returns
// false. With approval off it lets everything through, as before.
func (s *Server) gate(w http.ResponseWriter, r *http.Request, id, op string) bool {
	if !s.agent.ApproveApps() {
		return true
	}
	app := s.identify(r)
	if err := s.agent.CheckApp(r.Context(), app, id, op); err != nil {
		writeAgentError(w, err)
		return false
	}
	return true
}

// approvalCode maps the broker's refusals to the API's codes.
func approvalCode(err error) (string, bool) {
	var ae *approval.Error
	if errors.As(err, &ae) {
		return ae.Code, true
	}
	return "", false
}
