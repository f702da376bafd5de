// Package localapi is the HTTP/JSON API that the agent serves on a Unix socket
// (CONTRACTS §4). Its Go client, and the bodies both sides speak, are package
// localclient, which links nothing of the agent.
//
// The socket lives in a folder closed to others (0700), is itself 0600, and
// answers only peers with the same uid: the check happens at accept time, from
// SO_PEERCRED, before any request is read. Requests that carry Origin or Referer
// are refused, so a web page cannot reach the agent through a browser.
package localapi

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
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
// The returned listener accepts only peers with this process's uid.
func Listen(path string) (net.Listener, error) {
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
	// The folder is already 0700, so nobody else can reach the socket in the
	// moment between its creation and this chmod.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict socket %s: %w", path, err)
	}
	return newPeerListener(ln.(*net.UnixListener), os.Getuid()), nil
}

// ensurePrivateDir creates dir with mode 0700, or checks that an existing one
// is a folder owned by this user that others cannot enter or write.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create socket folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check socket folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket folder %s is not a folder", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("socket folder %s belongs to uid %d, not to you (uid %d): put the socket in a folder of your own (a missing one is created 0700)", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return openFolderError(dir, fi.Mode())
	}
	return nil
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
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("socket %s exists but does not answer (%w); if no agent is running, remove it", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
