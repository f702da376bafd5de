package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
)

// providersTimeout bounds a fetch of the relay's provider list, so that a
// relay that is down does not hold up the cached list.
const providersTimeout = 5 * time.Second

// Providers returns the relay's providers and the local ones. It asks the
// relay for a fresh list and falls back to the cached one while the relay
// cannot be reached.
func (a *Agent) Providers(ctx context.Context) ([]oauthflow.Provider, error) {
	relayList, err := a.fetchProviders(ctx)
	if err != nil {
		a.mu.Lock()
		relayList = a.providers
		a.mu.Unlock()
		if len(relayList) == 0 && len(a.cfg.LocalProviders) == 0 {
			return nil, err
		}
		a.log.Info("serving the cached provider list", "err", err)
	}
	out := append([]oauthflow.Provider(nil), relayList...)
	return append(out, a.cfg.LocalProviders...), nil
}

// IsLocal reports whether provider id is configured locally (no relay).
func (a *Agent) IsLocal(id string) bool {
	_, ok := a.localProvider(id)
	return ok
}

// fetchProviders asks the relay for its list and caches it in the vault.
func (a *Agent) fetchProviders(ctx context.Context) ([]oauthflow.Provider, error) {
	if a.relay == nil {
		return nil, ErrNoRelay
	}
	ctx, cancel := context.WithTimeout(ctx, providersTimeout)
	defer cancel()
	list, err := a.relay.Providers(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.providers = list
	a.mu.Unlock()
	if err := a.putMeta(providersKey, list); err != nil {
		a.log.Warn("caching the provider list failed", "err", err)
	}
	return list, nil
}

// provider finds a provider by id: a local one, then the relay's cached list,
// then the relay's list fetched again (a provider added since).
func (a *Agent) provider(ctx context.Context, id string) (oauthflow.Provider, bool, error) {
	if p, ok := a.localProvider(id); ok {
		return p, true, nil
	}
	a.mu.Lock()
	cached := a.providers
	a.mu.Unlock()
	for _, p := range cached {
		if p.ID == id {
			return p, false, nil
		}
	}
	list, err := a.fetchProviders(ctx)
	if err != nil {
		// Not "unknown provider": the relay may well know it (docs/socket-api.md).
		return oauthflow.Provider{}, false, fmt.Errorf("provider %q is not in the cached list, and the relay's list could not be fetched: %w", id, err)
	}
	for _, p := range list {
		if p.ID == id {
			return p, false, nil
		}
	}
	return oauthflow.Provider{}, false, fmt.Errorf("%w %q", ErrUnknownProvider, id)
}

func (a *Agent) localProvider(id string) (oauthflow.Provider, bool) {
	for _, p := range a.cfg.LocalProviders {
		if p.ID == id {
			return p, true
		}
	}
	return oauthflow.Provider{}, false
}
