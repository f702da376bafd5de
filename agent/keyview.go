package agent

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayproto"
)

// KeyView is a connection's current key as the agent holds it, handed to the
// function given to ReadKey and valid only while that function runs.
type KeyView struct {
	TokenType  string // the provider's format: peatio | bearer
	ExpiresAt  time.Time
	Scopes     []string
	Generation int64
	// Key is the access token in locked memory, exactly as issued ("AK:SK"
	// for peatio). It must be read in place: never kept, copied into a Go
	// string or modified.
	Key []byte
}

// AccessKey is the Peatio access key, a view of Key; nil for bearer keys.
func (v KeyView) AccessKey() []byte {
	if v.TokenType != relayproto.FormatPeatio {
		return nil
	}
	ak, _, _ := bytes.Cut(v.Key, []byte(":"))
	return ak
}

// SecretKey is the Peatio secret key, a view of Key; nil for bearer keys.
func (v KeyView) SecretKey() []byte {
	if v.TokenType != relayproto.FormatPeatio {
		return nil
	}
	_, sk, _ := bytes.Cut(v.Key, []byte(":"))
	return sk
}

// ReadKey is Token without a copy of the key: it refreshes the key as Token
// does, then calls fn with a view of it in locked memory. fn runs under the
// connection's lock, so it must not block (no I/O, no call into the agent):
// it is meant to write the key where it goes, into locked memory again.
// ReadKey returns fn's error.
func (a *Agent) ReadKey(ctx context.Context, id string, minValid time.Duration, fn func(KeyView) error) error {
	c, err := a.find(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.rec.Profile.TokenFormat == relayproto.FormatPeatio && !c.rec.RawKeys {
		c.mu.Unlock()
		return ErrForbidden
	}
	c.mu.Unlock()
	if err := a.ensureFresh(ctx, c, minValid); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.access == nil {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return fn(KeyView{
		TokenType:  c.rec.Profile.TokenFormat,
		ExpiresAt:  c.rec.ExpiresAt,
		Scopes:     append([]string(nil), c.rec.ScopesGranted...),
		Generation: c.rec.Generation,
		Key:        c.access.Bytes(),
	})
}

// apiRequest builds the authenticated request for r with c's current key,
// read in place from locked memory, and returns the key's generation. The
// Peatio secret key only feeds the HMAC; it is never copied.
func (a *Agent) apiRequest(ctx context.Context, c *conn, r oauthflow.APIRequest) (*http.Request, oauthflow.Provider, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var key []byte
	if c.access != nil {
		key = c.access.Bytes()
	}
	req, err := oauthflow.NewAPIRequestKey(ctx, c.rec.Profile, key, a.signer, r)
	return req, c.rec.Profile, c.rec.Generation, err
}
