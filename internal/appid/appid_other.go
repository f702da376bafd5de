//go:build !linux

package appid

import (
	"errors"
	"net"
	"sync"
)

// Peer is the process at the other end of a connection. Outside Linux it is
// not pinned: Identify names no app.
type Peer struct {
	PID  int
	UID  int
	Weak bool

	mu     sync.Mutex // guards closed
	closed bool
}

// PinConn returns an unpinned Peer: app identification is implemented on
// Linux only.
func PinConn(c *net.UnixConn) (*Peer, error) { return &Peer{PID: -1, UID: -1, Weak: true}, nil }

// PinPID returns an unpinned Peer for pid.
func PinPID(pid int) (*Peer, error) { return &Peer{PID: pid, UID: -1, Weak: true}, nil }

// Alive reports whether p has not been closed; the process is not watched.
func (p *Peer) Alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed
}

// Close marks p closed.
func (p *Peer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// Identify returns an unidentified app: outside Linux every request may
// only be allowed once.
func (id *Identifier) Identify(p *Peer) (App, error) {
	a := unidentified("unknown", "apps are identified on Linux only")
	a.PID, a.Weak = p.PID, true
	return a, nil
}

// Recheck identifies p again.
func (id *Identifier) Recheck(p *Peer, prev App) (App, error) { return id.Identify(p) }

// IdentifyFile refuses: apps are identified on Linux only.
func (id *Identifier) IdentifyFile(path string) (App, error) {
	return App{}, errors.New("appid: apps are identified on Linux only")
}

// IdentifyProposal refuses: apps are identified on Linux only.
func (id *Identifier) IdentifyProposal(path string, env []string) (App, error) {
	return App{}, errors.New("appid: apps are identified on Linux only")
}

// Environ refuses: the process is not pinned outside Linux.
func (p *Peer) Environ() ([]string, error) {
	return nil, errors.New("appid: apps are identified on Linux only")
}
