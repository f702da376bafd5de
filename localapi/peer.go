package localapi

import (
	"context"
	"log/slog"
	"net"
)

// Peer is the process at the other end of a socket connection, as the kernel
// reported it when the connection was accepted.
type Peer struct {
	PID int
	UID int
	Exe string // the executable's path, from /proc/PID/exe; "" when unreadable
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
// buffers (see newKeyAnswer). On a short write only the part sent is wiped:
// bufio keeps the rest to send again.
func (c *peerConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	clear(p[:n])
	return n, err
}

// peerListener accepts only connections whose peer has uid. Others are
// closed at once, before a byte of their request is read.
type peerListener struct {
	*net.UnixListener
	uid int
	log *slog.Logger
}

func newPeerListener(ln *net.UnixListener, uid int) *peerListener {
	return &peerListener{UnixListener: ln, uid: uid, log: slog.Default()}
}

// Accept waits for the next connection from a peer with the listener's uid.
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
		if peer.UID != l.uid {
			l.log.Warn("socket peer refused: another user", "peer_uid", peer.UID, "peer_pid", peer.PID)
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
