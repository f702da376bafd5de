package oauthflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokentray/tokentray/relayproto"
)

// Broker is the relay as the brokered flow needs it (docs/relay.md §2);
// *relayclient.Client is one.
type Broker interface {
	// Authorize returns the provider's authorize URL for r.
	Authorize(ctx context.Context, r relayproto.AuthorizeRequest) (string, error)
	// Redeem trades a flow result and the PKCE verifier for p's token.
	Redeem(ctx context.Context, p Provider, requested []string, result, codeVerifier string) (*Token, error)
}

// RelayConnect configures ConnectRelay.
type RelayConnect struct {
	// Relay is the relay client; required.
	Relay Broker
	// Provider is the relay provider, as listed by Relay.Providers.
	Provider Provider
	// Scopes are the scopes to request.
	Scopes []string
	// Fields are the extra Connect fields, by name.
	Fields map[string]string
	// Open opens the authorize URL in a browser; nil opens nothing (OnURL
	// must then bring the URL to the user). An Open error is logged and the
	// flow keeps waiting.
	Open Opener
	// OnURL, when set, receives the authorize URL as soon as it is known,
	// before Open is called.
	OnURL func(authorizeURL string)
	// Timeout bounds the wait for the browser; 0 means DefaultTimeout.
	Timeout time.Duration
}

// ConnectRelay runs one brokered flow (docs/relay.md §2): it listens on
// http://127.0.0.1:PORT/callback, makes state and a PKCE verifier, asks the
// relay for the authorize URL, hands it to OnURL and Open, takes exactly
// one callback carrying the state, redeems its result with the verifier
// and closes the listener. A callback with error=… ends the flow with the
// provider's (or relay's) own *Error. Cancelling ctx ends it cleanly; the
// timeout ends it with ErrTimeout.
func ConnectRelay(ctx context.Context, c RelayConnect) (*Token, error) {
	if c.Relay == nil {
		return nil, errors.New("oauthflow: connect: no relay client")
	}
	if c.Provider.ID == "" {
		return nil, errors.New("oauthflow: connect: no provider id")
	}
	state, err := newState()
	if err != nil {
		return nil, fmt.Errorf("oauthflow: connect: %w", err)
	}
	verifier := oauth2.GenerateVerifier()
	f := &loopbackFlow{
		state:   state,
		timeout: c.Timeout,
		open:    c.Open,
		onURL:   c.OnURL,
		start: func(ctx context.Context, redirect string) (string, error) {
			return c.Relay.Authorize(ctx, relayproto.AuthorizeRequest{
				Provider:      c.Provider.ID,
				Scopes:        c.Scopes,
				Fields:        c.Fields,
				Loopback:      redirect,
				State:         state,
				CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier),
			})
		},
		finish: func(ctx context.Context, cb callback) (*Token, error) {
			return c.Relay.Redeem(ctx, c.Provider, c.Scopes, cb.result, verifier)
		},
	}
	tok, err := f.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauthflow: connect %s: %w", c.Provider.ID, err)
	}
	return tok, nil
}
