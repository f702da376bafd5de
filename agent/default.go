package agent

import "fmt"

// A provider with several connections has at most one default: the
// connection a request gets when it names the provider id instead of a
// connection id (docs/socket-api.md). Setting one clears the provider's others.

// defaultOfLocked returns the default connection of provider, or
// ErrAmbiguous when none of its several connections is marked. a.mu must
// be held; each conn's mu is taken in turn (the written order: Agent.mu,
// then conn.mu).
func (a *Agent) defaultOfLocked(provider string) (*conn, error) {
	for _, c := range a.conns {
		c.mu.Lock()
		ok := c.rec.Provider == provider && c.rec.Default
		c.mu.Unlock()
		if ok {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w (or mark one as the default): %q", ErrAmbiguous, provider)
}

// setDefault makes c its provider's default (on must be true: a default is
// moved by marking another) and clears the others, saving each one that
// changes. Conns are locked one at a time, never two together.
func (a *Agent) setDefault(c *conn, on bool) error {
	if !on {
		return fmt.Errorf("%w: a default is changed by marking another connection as the default", ErrBadRequest)
	}
	c.mu.Lock()
	provider := c.rec.Provider
	c.mu.Unlock()
	a.mu.Lock()
	var same []*conn
	for _, x := range a.conns {
		if x == c {
			continue
		}
		x.mu.Lock()
		if x.rec.Provider == provider {
			same = append(same, x)
		}
		x.mu.Unlock()
	}
	a.mu.Unlock()
	for _, x := range append(same, c) {
		x.mu.Lock()
		want := x == c
		if x.rec.Default != want {
			x.rec.Default = want
			if err := a.saveConn(x); err != nil {
				x.rec.Default = !want
				x.mu.Unlock()
				return err
			}
			a.emit(EventState, x)
		}
		x.mu.Unlock()
	}
	return nil
}
