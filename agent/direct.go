package agent

import (
	"context"

	"github.com/tokentray/tokentray/oauthflow"
)

// The direct (relay-less) flow for providers configured in config.toml: the
// device is a public client and runs PKCE with the provider itself.

func (a *Agent) connectDirect(ctx context.Context, p oauthflow.Provider, scopes []string, onURL func(string)) (*oauthflow.Token, error) {
	return oauthflow.ConnectDirect(ctx, oauthflow.DirectConnect{
		Provider: p, Scopes: scopes, Open: a.cfg.Open, OnURL: onURL,
		HTTPClient: a.hc, Timeout: a.cfg.ConnectTimeout, Now: a.clock.Now,
	})
}

func (a *Agent) refreshDirect(ctx context.Context, rec connRecord, old *oauthflow.Token) (*oauthflow.Token, error) {
	return oauthflow.RefreshDirect(ctx, a.hc, rec.Profile, old, a.clock.Now)
}

func (a *Agent) revokeDirect(ctx context.Context, rec connRecord, tok *oauthflow.Token) error {
	return oauthflow.RevokeDirect(ctx, a.hc, rec.Profile, tok)
}
