package safesocket

import (
	"context"
	"log/slog"
	"net"
)

// Peer is the process at the other end of a socket connection, as the kernel
// reported it when the connection was accepted.
type Peer struct {
	PID int
	UID int    // -1 on Windows, which names users by SID
	SID string // Windows: the user SID of the peer's process; "" elsewhere
	Exe string // the executable's path (Linux: /proc/PID/exe); "" when unreadable
}

// sameUser reports whether p runs as owner: the same SID where the system
// names users by SID (Windows), else the same uid. A peer or owner without a
// known identity never matches, so a check that read nothing lets nobody in.
func sameUser(p, owner Peer) bool {
	if p.SID != "" || owner.SID != "" {
		return p.SID == owner.SID
	}
	return p.UID == owner.UID && p.UID >= 0
}

// userAttr is the peer's user for a log line.
func (p Peer) userAttr() slog.Attr {
	if p.SID != "" {
		return slog.String("peer_sid", p.SID)
	}
	return slog.Int("peer_uid", p.UID)
}

type peerKey struct{}

// PeerFromContext returns the peer of the connection a request arrived on.
func PeerFromContext(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// peerConn is an accepted connection with the credentials of its peer.
type peerConn struct {
	net.Conn
	peer Peer
}

// Write sends p and then wipes what was sent. net/http writes to the
// connection only from its own buffers (the connection's bufio.Writer, a
// response's when it flushes) or from a slice a handler gave it in one large
// write, and none of them is read again once sent; wiping them here is what
// keeps an answer that carried a key from lingering in net/http's pooled
// buffers (see localapi's newKeyAnswer). On a short write only the part sent is wiped:
// bufio keeps the rest to send again.
func (c *peerConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	clear(p[:n])
	return n, err
}

// peerListener accepts only connections whose peer is the owner's user.
// Others are closed at once, before a byte of their request is read.
type peerListener struct {
	*net.UnixListener
	owner Peer
	log   *slog.Logger
}

func newPeerListener(ln *net.UnixListener, owner Peer) *peerListener {
	return &peerListener{UnixListener: ln, owner: owner, log: slog.Default()}
}

// SetLogger sends the listener's refusals of peers to log instead of
// slog.Default. ln must come from Listen (anything else is left alone), and
// SetLogger must be called before the first Accept.
func SetLogger(ln net.Listener, log *slog.Logger) {
	if pl, ok := ln.(*peerListener); ok {
		pl.log = log
	}
}

// Accept waits for the next connection from a peer of the owner's user.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		peer, err := peerOf(c)
		if err != nil {
			l.log.Warn("socket peer refused: no credentials", "err", err)
			c.Close()
			continue
		}
		if !sameUser(peer, l.owner) {
			l.log.Warn("socket peer refused: another user", peer.userAttr(), "peer_pid", peer.PID)
			c.Close()
			continue
		}
		return &peerConn{Conn: c, peer: peer}, nil
	}
}

// ConnContext is the http.Server hook that hands each request its peer.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if pc, ok := c.(*peerConn); ok {
		return context.WithValue(ctx, peerKey{}, pc.peer)
	}
	return ctx
}

// UnixConn returns the Unix socket under c, a connection accepted by a
// listener from Listen, so that a caller can read more of the kernel's
// record of its peer (appid pins the peer's process with it); nil for any
// other connection.
func UnixConn(c net.Conn) *net.UnixConn {
	pc, ok := c.(*peerConn)
	if !ok {
		return nil
	}
	uc, _ := pc.Conn.(*net.UnixConn)
	return uc
}
