package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokentray/tokentray/safesocket"
)

// One tray app per agent (docs/cli.md): the first `tokentray` for a socket
// takes a lock beside it and listens on a second, tiny socket; a later
// launch finds the lock taken, asks the first one over that socket to show
// its window, and exits. The lock decides who is first, so two launches at
// the same instant cannot both win; the socket only carries "show".

// ErrAlreadyRunning reports that another tray app already serves this
// agent's socket.
var ErrAlreadyRunning = errors.New("tokentray is already running")

// showTimeout bounds a second launch's whole conversation with the first:
// together with start-up it stays within the 2 s of docs/cli.md. The first
// answers within showWait even when its window is slow to map (a loaded
// machine, software GL): the show is queued by then.
const (
	showTimeout = 1800 * time.Millisecond
	showWait    = time.Second
)

// Instance is this process's claim to be the one tray app for an agent
// socket. Close releases it.
type Instance struct {
	lock *os.File // held for the process's lifetime; nil where there is no flock
	ln   net.Listener
}

// instancePaths are the lock and the socket of the tray app for the agent
// socket agentSock: beside it, named after it, so each agent (the user's,
// a demo's) has its own tray app.
func instancePaths(agentSock string) (lock, sock string) {
	return agentSock + ".tray.lock", agentSock + ".tray"
}

// ClaimInstance makes this process the tray app for agentSock, or returns
// ErrAlreadyRunning when another process is. The socket's folder is created
// 0700 if needed, as the agent's would be.
func ClaimInstance(agentSock string) (*Instance, error) {
	lockPath, sockPath := instancePaths(agentSock)
	if err := ensureFolder(agentSock); err != nil {
		return nil, err
	}
	lock, err := lockFile(lockPath)
	if err != nil {
		return nil, err
	}
	ln, err := safesocket.Listen(sockPath)
	if errors.Is(err, safesocket.ErrAgentRunning) {
		// Without flock (no such thing on this OS) a live socket is the
		// only sign of the first instance.
		if lock != nil {
			lock.Close()
		}
		return nil, ErrAlreadyRunning
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, fmt.Errorf("listen for a second launch: %w", err)
	}
	return &Instance{lock: lock, ln: ln}, nil
}

// ensureFolder makes the agent socket's folder (0700) so that the lock can
// be created in it; safesocket.Listen then checks its owner and mode.
func ensureFolder(agentSock string) error {
	if err := os.MkdirAll(filepath.Dir(agentSock), 0o700); err != nil {
		return fmt.Errorf("create the socket folder: %w", err)
	}
	return nil
}

// Serve answers later launches until ctx ends: each "show" runs show, which
// returns once the window is up or after showWait, then the answer goes
// back.
func (in *Instance) Serve(ctx context.Context, show func()) {
	go func() {
		<-ctx.Done()
		in.ln.Close()
	}()
	for {
		c, err := in.ln.Accept()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				continue // one peer refused (another uid); keep serving
			}
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(showTimeout))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || strings.TrimSpace(line) != "show" {
				return
			}
			show()
			fmt.Fprintln(c, "shown")
		}()
	}
}

// Close stops serving and releases the claim.
func (in *Instance) Close() {
	in.ln.Close()
	if in.lock != nil {
		in.lock.Close()
	}
}

// ShowRunning asks the tray app that holds agentSock's claim to show its
// window, waiting at most showTimeout (the first may still be starting).
func ShowRunning(agentSock string) error {
	_, sockPath := instancePaths(agentSock)
	deadline := time.Now().Add(showTimeout)
	var c net.Conn
	var err error
	for {
		c, err = net.DialTimeout("unix", sockPath, time.Until(deadline))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the first launch has the lock but is not listening yet
	}
	if err != nil {
		return fmt.Errorf("reach the running tray app: %w", err)
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := fmt.Fprintln(c, "show"); err != nil {
		return fmt.Errorf("ask the running tray app: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("hear from the running tray app: %w", err)
	}
	if strings.TrimSpace(line) != "shown" {
		return fmt.Errorf("the running tray app answered %q", strings.TrimSpace(line))
	}
	return nil
}
