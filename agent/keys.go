package agent

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayproto"
)

// Connections lists the connections, sorted by label then id.
func (a *Agent) Connections() []Connection {
	now := a.clock.Now()
	a.mu.Lock()
	conns := make([]*conn, 0, len(a.conns))
	for _, c := range a.conns {
		conns = append(conns, c)
	}
	a.mu.Unlock()
	out := make([]Connection, 0, len(conns))
	for _, c := range conns {
		c.mu.Lock()
		out = append(out, c.snapshot(now))
		c.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Label != out[j].Label {
			return out[i].Label < out[j].Label
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Connection returns one connection by id, or by provider id when exactly one
// connection of that provider exists.
func (a *Agent) Connection(id string) (Connection, error) {
	c, err := a.find(id)
	if err != nil {
		return Connection{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot(a.clock.Now()), nil
}

func (a *Agent) find(id string) (*conn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.conns[id]; ok {
		return c, nil
	}
	var match *conn
	for _, c := range a.conns {
		c.mu.Lock()
		p := c.rec.Provider
		c.mu.Unlock()
		if p != id {
			continue
		}
		if match != nil {
			return a.defaultOfLocked(id)
		}
		match = c
	}
	if match == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return match, nil
}

// ConnectionPatch changes a connection's settings; nil fields stay.
type ConnectionPatch struct {
	Label   *string
	RawKeys *bool
	Default *bool // only true: makes it the provider's default (default.go)
}

// UpdateConnection renames a connection or changes whether scripts may read
// its raw keys. On error nothing changes.
func (a *Agent) UpdateConnection(id string, p ConnectionPatch) (Connection, error) {
	c, err := a.find(id)
	if err != nil {
		return Connection{}, err
	}
	if p.Default != nil {
		if err := a.setDefault(c, *p.Default); err != nil {
			return Connection{}, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.rec
	if p.Label != nil {
		label := strings.TrimSpace(*p.Label)
		if label == "" || len(label) > 200 || strings.ContainsAny(label, "\r\n\x00") {
			return c.snapshot(a.clock.Now()), fmt.Errorf("%w: a label is 1 to 200 characters on one line", ErrBadRequest)
		}
		c.rec.Label, c.rec.LabelByUser = label, true
	}
	if p.RawKeys != nil {
		c.rec.RawKeys = *p.RawKeys
	}
	if err := a.saveConn(c); err != nil {
		c.rec = old
		return c.snapshot(a.clock.Now()), err
	}
	a.emit(EventState, c)
	return c.snapshot(a.clock.Now()), nil
}

// Key is a connection's current key.
type Key struct {
	TokenType   string // the provider's format: peatio | bearer
	ExpiresAt   time.Time
	Scopes      []string
	Generation  int64
	AccessToken string // bearer; "AK:SK" for peatio
	AccessKey   string // peatio
	SecretKey   string // peatio
}

// Token returns the connection's key, refreshing it first when it is expired
// or would expire within minValid. minValid is capped at half the key's
// lifetime, so that asking for more than a key can give never refreshes in a
// loop. Peatio keys of a connection with raw keys off answer ErrForbidden.
// The key comes back in Go strings, which cannot be wiped: the socket
// serves keys through ReadKey instead.
func (a *Agent) Token(ctx context.Context, id string, minValid time.Duration) (Key, error) {
	var k Key
	err := a.ReadKey(ctx, id, minValid, func(v KeyView) error {
		k = Key{TokenType: v.TokenType, ExpiresAt: v.ExpiresAt, Scopes: v.Scopes, Generation: v.Generation}
		if v.TokenType == relayproto.FormatPeatio {
			k.AccessKey, k.SecretKey = string(v.AccessKey()), string(v.SecretKey())
		} else {
			k.AccessToken = string(v.Key)
		}
		return nil
	})
	return k, err
}

// ensureFresh refreshes c when its key is expired or would expire within
// minValid (capped at half the lifetime), and waits for that refresh.
func (a *Agent) ensureFresh(ctx context.Context, c *conn, minValid time.Duration) error {
	c.mu.Lock()
	if c.rec.NeedsReconnect {
		c.mu.Unlock()
		return ErrNeedsReconnect
	}
	if half := c.rec.lifetime() / 2; minValid > half {
		minValid = half
	}
	left := c.rec.ExpiresAt.Sub(a.clock.Now())
	gen := c.rec.Generation
	c.mu.Unlock()
	if left > minValid && left > 0 {
		return nil
	}
	_, err := a.refresh(ctx, c, &gen)
	return err
}

// Signed is a Peatio request signed with a connection's key.
type Signed = peatio.SignedQuery

// Sign signs a request to the exchange with the connection's key, adding the
// provider's default parameters before signing. It refreshes an expired key
// first. It works with raw keys off: the script never sees the secret key.
func (a *Agent) Sign(ctx context.Context, id, method, path string, params map[string]string) (Signed, Connection, error) {
	c, err := a.find(id)
	if err != nil {
		return Signed{}, Connection{}, err
	}
	c.mu.Lock()
	format := c.rec.Profile.TokenFormat
	c.mu.Unlock()
	if format != relayproto.FormatPeatio {
		return Signed{}, Connection{}, fmt.Errorf("%w: only peatio connections sign requests; send the bearer token instead", ErrBadRequest)
	}
	if err := a.ensureFresh(ctx, c, 0); err != nil {
		return Signed{}, Connection{}, err
	}
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access == nil {
		return Signed{}, Connection{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	// The secret key is read in place from locked memory (under c.mu, so no
	// refresh destroys it meanwhile); the access key goes out in the answer.
	ak, sk, _ := bytes.Cut(c.access.Bytes(), []byte(":"))
	s, err := a.signer.SignKey(method, path, q, string(ak), sk, c.rec.Profile.DefaultParams)
	if err != nil {
		return Signed{}, Connection{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return s, c.snapshot(a.clock.Now()), nil
}
