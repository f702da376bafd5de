// Package safesocket is the agent's Unix socket as only its user can reach
// it, after tailscale's safesocket: Listen makes the socket in a folder
// closed to others (0700), makes it 0600, and returns a listener that accepts
// only peers with this process's uid, checked from the kernel's credentials
// (SO_PEERCRED) before any request is read. PeerFromContext gives a request
// its peer, for the activity log.
//
// It imports nothing of the agent or the vault, so the tray app's own
// single-instance socket uses it without linking them.
//
// Per system (files socket_*.go and peer_*.go): macOS reads the peer with
// LOCAL_PEERCRED and LOCAL_PEERPID; Windows keeps the AF_UNIX socket in a
// folder whose DACL grants only the user, and compares the user SID of the
// peer process (SIO_AF_UNIX_GETPEERPID) with the agent's. The SDDL and
// macOS procargs parsing are plain string work in files without a build
// tag, tested on every system.
package safesocket

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ErrAgentRunning reports that another agent already answers on the socket.
var ErrAgentRunning = errors.New("another tokentray agent is already running on this socket")

// Listen makes the socket's folder if needed (0700), checks that it belongs to
// this user and is closed to others, removes a stale socket left by a crashed
// agent — only after a dial to it fails — and listens on path with mode 0600.
// A live socket means another agent (Listen then returns ErrAgentRunning) or
// another program (ErrForeignSocket); either way it is left alone.
//
// The returned listener accepts only peers with this process's uid (on
// Windows: its user SID).
func Listen(path string) (net.Listener, error) {
	owner, err := currentUser()
	if err != nil {
		return nil, err
	}
	if err := ensurePrivateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := restrictSocket(path); err != nil {
		ln.Close()
		return nil, err
	}
	return newPeerListener(ln.(*net.UnixListener), owner), nil
}

// removeStaleSocket removes path if it is a socket nobody answers on.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check socket %s: %w", path, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket; remove it or set TOKENTRAY_SOCK", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return liveSocketError(path)
	}
	// Only "connection refused" proves nobody listens. A busy agent whose
	// backlog is full, or a dial that times out, must keep its socket.
	if !isConnRefused(err) {
		return fmt.Errorf("socket %s exists but does not answer (%w); if no agent is running, remove it", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
