// Package agent is the core of tokentray: it owns connections, keeps their
// keys fresh, and publishes events, settings and an activity log. The
// socket API, the CLI and the GUI are all views of it.
//
// Concurrency: every exported method of *Agent is safe for concurrent use.
// Each connection has its own mutex; at most one refresh runs per connection
// at a time, and callers that need a fresh key while one runs wait for it.
//
// Lock order: Agent.mu, then conn.mu; never the reverse. Agent.life, the
// event hub's, the activity log's and the vault's mutexes are leaves: they
// may be taken under the others and never hold another of ours. No code
// holds two conn.mu at once. TestLockOrderStress races this.
//
// Crash safety: a refresh is journaled in the vault (connRecord.RefreshSent)
// before the relay or provider is called, and a revocation (a pending
// revocation entry) before the local wipe. A crash at any instant is
// resolved at the next start: every journaled refresh is retried at once
// with the same old refresh blob (the relay answers a retry within its
// answer window with the answer it already has), and every journaled
// revocation is sent again until the provider confirms it.
package agent

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/peatio"
	"github.com/tokentray/tokentray/relayclient"
	"github.com/tokentray/tokentray/vault"
)

// Sentinel errors callers branch on with errors.Is.
var (
	ErrNotFound         = errors.New("no such connection")
	ErrAmbiguous        = errors.New("several connections of that provider; name one by its id")
	ErrNeedsReconnect   = errors.New("the provider refused the connection's grant; connect again")
	ErrForbidden        = errors.New("scripts may not read this connection's raw keys")
	ErrUnknownProvider  = errors.New("unknown provider")
	ErrBadRequest       = errors.New("bad request")
	ErrRelayUnreachable = relayclient.ErrRelayUnreachable
	ErrNoRelay          = errors.New("no relay configured: set TOKENTRAY_RELAY or relay_url in config.toml")
)

// errStopping is the answer to work asked for once Close has begun.
var errStopping = errors.New("the agent is stopping")

// Config is what an Agent is made of. Only Vault is required.
type Config struct {
	// Vault holds the connections, the device key, the cached provider
	// profiles and the settings. The agent does not close it.
	Vault *vault.Vault
	// Relay brokers flows, refreshes and revocations of relay providers; nil
	// when no relay is configured (then only local providers work).
	Relay *relayclient.Client
	// LocalProviders are public clients configured in config.toml; the device
	// runs their flow directly.
	LocalProviders []oauthflow.Provider
	// Open opens the authorize URL in a browser. Default: none (the URL only
	// reaches the caller of Connect).
	Open oauthflow.Opener
	// HTTPClient calls providers' APIs (the me-API, direct token calls).
	// Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// Clock is the source of time. Default: SystemClock.
	Clock Clock
	// Logger gets the agent's log. Default: slog.Default().
	Logger *slog.Logger
	// Version is reported by Status.
	Version string
	// WakeEvery bounds how long the scheduler sleeps, so that time lost in
	// suspend is noticed. Default: 1 minute.
	WakeEvery time.Duration
	// ConnectTimeout bounds a Connect flow. Default: 5 minutes.
	ConnectTimeout time.Duration
	// ProxyTimeout bounds how long Proxy waits for a provider to start
	// answering. Default: 30 seconds.
	ProxyTimeout time.Duration
	// ApproveApps makes token, sign and proxy need a human's grant for the
	// asking app × connection: config.toml's approve_apps. A headless agent
	// turns approval on when it or the choice saved in the vault says on;
	// the tray app ignores it (see TrayApp).
	ApproveApps bool
	// TrayApp says the tray app runs this agent: approval is on unless the
	// window switched it off (SetApproveApps, saved in the vault). Nothing
	// else turns it off. Default false: a headless agent.
	TrayApp bool

	// Test hooks, nil outside tests: refreshCalling runs in a refresh after
	// its journal and before its call; adoptWaits runs when a Connect waits
	// for a refresh of the connection it updates.
	refreshCalling func()
	adoptWaits     func()
}

// Agent owns the connections. Make one with New, then call Run.
type Agent struct {
	cfg    Config
	vault  *vault.Vault
	relay  *relayclient.Client
	clock  Clock
	log    *slog.Logger
	hc     *http.Client
	signer *peatio.Signer

	proxyClient *http.Client

	ctx    context.Context // lives until Close; refreshes run under it
	cancel context.CancelFunc
	wg     sync.WaitGroup // refreshes and revocations in flight
	kick   chan struct{}  // wakes the scheduler

	mu        sync.Mutex // guards the fields below
	conns     map[string]*conn
	providers []oauthflow.Provider // the relay's list, as last fetched or cached
	settings  Settings

	life     sync.Mutex      // a leaf lock; guards the fields below
	stopping bool            // Close has begun: no new background work
	revoking map[string]bool // pending revocations being sent, by vault key
	tried    map[string]bool // pending revocations sent since this start, by vault key

	events   eventHub
	activity activityLog
	apps     apps
}

// New loads the connections, provider profiles and settings from the vault.
// It does not contact the relay: keys are served even while it is down.
func New(cfg Config) (*Agent, error) {
	if cfg.Vault == nil {
		return nil, errors.New("agent: no vault")
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.WakeEvery <= 0 {
		cfg.WakeEvery = time.Minute
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Minute
	}
	if cfg.ProxyTimeout <= 0 {
		cfg.ProxyTimeout = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{
		cfg:         cfg,
		vault:       cfg.Vault,
		relay:       cfg.Relay,
		clock:       cfg.Clock,
		log:         cfg.Logger,
		hc:          cfg.HTTPClient,
		proxyClient: newProxyClient(cfg.ProxyTimeout),
		signer:      &peatio.Signer{Now: cfg.Clock.Now},
		ctx:         ctx,
		cancel:      cancel,
		kick:        make(chan struct{}, 1),
		conns:       make(map[string]*conn),
		revoking:    make(map[string]bool),
		tried:       make(map[string]bool),
		activity:    activityLog{max: 1000},
	}
	if err := a.load(); err != nil {
		cancel()
		return nil, err
	}
	a.settings.ApproveApps = a.startApproveApps()
	if err := a.newBroker(); err != nil {
		cancel()
		return nil, err
	}
	return a, nil
}

// Close stops the scheduler and waits for refreshes in flight to end, so that
// their results are saved. It wipes the hot keys from memory; the vault
// stays open for its owner to close.
func (a *Agent) Close() {
	a.life.Lock()
	a.stopping = true
	a.life.Unlock()
	a.cancel()
	a.wg.Wait()
	a.saveGrants() // the last uses; the vault is still open
	a.events.closeAll()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.conns {
		c.mu.Lock()
		c.wipe()
		c.removed = true
		c.mu.Unlock()
	}
}

// track registers background work that Close must wait for, and reports
// false once Close has begun. Callers may hold any lock: life is a leaf.
func (a *Agent) track() bool {
	a.life.Lock()
	defer a.life.Unlock()
	if a.stopping {
		return false
	}
	a.wg.Add(1)
	return true
}

// Status is the agent's summary.
type Status struct {
	Version     string
	Connections int
	// PendingRevocations counts revocations the provider has not confirmed
	// yet; they are kept, sealed, and retried across restarts.
	PendingRevocations int
}

// Status reports the agent's version, number of connections and number of
// pending revocations.
func (a *Agent) Status() Status {
	pending := len(a.vault.Keys(revokePrefix))
	a.mu.Lock()
	defer a.mu.Unlock()
	return Status{Version: a.cfg.Version, Connections: len(a.conns), PendingRevocations: pending}
}

// wake asks the scheduler to look at the connections again.
func (a *Agent) wake() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}
