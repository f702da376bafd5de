package agentd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tokentray/tokentray/agent"
	"github.com/tokentray/tokentray/internal/browser"
	"github.com/tokentray/tokentray/internal/screenlock"
	"github.com/tokentray/tokentray/localapi"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/oauthflow"
	"github.com/tokentray/tokentray/relayclient"
	"github.com/tokentray/tokentray/safesocket"
	"github.com/tokentray/tokentray/vault"
)

// Options configure Start. The zero value starts the user's agent from the
// environment and config.toml.
type Options struct {
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Socket is the socket's path; default localclient.SocketPath.
	Socket string
	// VaultDir is the vault's folder; default as vault.Options.Dir.
	VaultDir string
	// VaultMode, when set, wins over config.toml's vault setting.
	VaultMode *vault.Mode
	// Passphrase is asked for when the vault is in passphrase mode.
	Passphrase func() ([]byte, error)
	// Keyring replaces the OS keyring (tests).
	Keyring vault.Keyring
	// RelayURL, when set, wins over $TOKENTRAY_RELAY and config.toml.
	RelayURL string
	// RelayTimeout bounds each call to the relay; default
	// relayclient.DefaultTimeout. A relay silent for longer is
	// relay_unreachable.
	RelayTimeout time.Duration
	// LocalProviders are added to config.toml's.
	LocalProviders []oauthflow.Provider
	// Open opens authorize URLs; default $BROWSER, else browser.System.
	Open oauthflow.Opener
	// Clock drives the agent; default the system clock.
	Clock agent.Clock
	// Logger gets the log; default slog.Default().
	Logger *slog.Logger
	// Version is reported by /v1/status.
	Version string
	// TrayApp says the tray app runs this agent: app approval is on unless
	// the tray's window switched it off (the choice is saved in the vault);
	// config.toml's approve_apps cannot turn it off. Default false: a
	// headless agent, which reads approve_apps from config.toml (agent.Config
	// has the whole rule).
	TrayApp bool
}

// Daemon is a running agent serving its socket.
type Daemon struct {
	Agent  *agent.Agent
	Vault  *vault.Vault
	Socket string

	lock     *screenlock.Watcher // nil when the screen lock is not watched
	cancel   context.CancelFunc
	served   chan struct{} // closed when the socket stops serving
	serveErr error         // why it stopped; set before served closes
	ran      chan struct{} // closed when the scheduler has stopped
	stopOnce sync.Once
}

// Start opens the vault, starts the agent and serves the socket. The socket
// appears only once everything else is ready, so a client that finds it can
// be served at once.
func Start(ctx context.Context, opts Options) (*Daemon, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Socket == "" {
		opts.Socket = localclient.SocketPath(opts.Getenv)
	}
	fc, err := loadFileConfig(opts.Getenv)
	if err != nil {
		return nil, err
	}
	relayURL := opts.RelayURL
	if relayURL == "" {
		if relayURL, err = RelayURL(opts.Getenv, fc); err != nil {
			return nil, err
		}
	}
	if err := hardenProcess(); err != nil {
		return nil, err
	}
	v, err := openVault(ctx, opts, fc)
	if err != nil {
		return nil, err
	}
	for _, n := range v.Notices() {
		opts.Logger.Warn(n)
	}
	a, err := newAgent(opts, fc, v, relayURL)
	if err != nil {
		v.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	lock := watchScreenLock(runCtx, opts, a) // before the socket appears: it may take the bus timeout
	ln, err := safesocket.Listen(opts.Socket)
	if err != nil {
		cancel()
		if lock != nil {
			lock.Close()
		}
		a.Close()
		v.Close()
		return nil, err
	}
	d := &Daemon{Agent: a, Vault: v, Socket: opts.Socket, lock: lock, cancel: cancel, served: make(chan struct{}), ran: make(chan struct{})}
	go func() { defer close(d.ran); a.Run(runCtx) }()
	go func() {
		defer close(d.served)
		d.serveErr = localapi.NewServer(a, opts.Logger, localapi.WithCLIExecutables(cliExecutables()...)).Serve(runCtx, ln)
	}()
	opts.Logger.Info("agent ready", "socket", opts.Socket, "vault", v.Mode().String(), "relay", relayURL != "")
	return d, nil
}

// watchScreenLock ends the interactive terminals' grants whenever the
// screen locks, until ctx ends. Where the lock cannot be watched (no desktop
// session, another system) they end after their time limit only; that is
// logged, and the agent runs on.
func watchScreenLock(ctx context.Context, opts Options, a *agent.Agent) *screenlock.Watcher {
	w, err := screenlock.Start(ctx, screenlock.Config{Getenv: opts.Getenv, Logger: opts.Logger}, func(l screenlock.Lock) {
		opts.Logger.Info("the screen locked; interactive terminals' grants end", "source", l.Source)
		a.ScreenLocked(l.Source)
	})
	switch {
	case errors.Is(err, screenlock.ErrUnsupported):
		return nil
	case err != nil:
		opts.Logger.Info("the screen lock is not watched: interactive terminals' grants end after their time limit only", "err", err)
		return nil
	}
	opts.Logger.Debug("watching the screen lock", "sources", w.Sources())
	return w
}

// cliExecutables are the tokentray CLI's executables: this program (the
// tray app and `tokentray agent` answer the CLI's subcommands too) and the
// small `tokentray` beside it. appid compares them by device and inode, so a
// missing one costs nothing.
func cliExecutables() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return []string{exe, filepath.Join(filepath.Dir(exe), "tokentray"+filepath.Ext(exe))}
}

func loadFileConfig(getenv func(string) string) (FileConfig, error) {
	dir, err := ConfigDir(getenv)
	if err != nil {
		return FileConfig{}, err
	}
	return LoadConfig(filepath.Join(dir, "config.toml"))
}

func openVault(ctx context.Context, opts Options, fc FileConfig) (*vault.Vault, error) {
	vo := vault.Options{Dir: opts.VaultDir, Keyring: opts.Keyring, Logger: opts.Logger, Writer: "tokentray " + opts.Version}
	switch fc.Vault {
	case "passphrase":
		vo.Mode = vault.ModePassphrase
	case "memory":
		vo.Mode = vault.ModeMemory
	}
	if opts.VaultMode != nil {
		vo.Mode = *opts.VaultMode
	}
	if vo.Mode == vault.ModePassphrase {
		if opts.Passphrase == nil {
			return nil, errors.New("the vault uses a passphrase, and there is no way to ask for it here")
		}
		p, err := opts.Passphrase()
		if err != nil {
			return nil, fmt.Errorf("read the vault passphrase: %w", err)
		}
		vo.Passphrase = p
	}
	v, err := vault.Open(ctx, vo)
	if err != nil {
		return nil, fmt.Errorf("open the vault: %w", err)
	}
	return v, nil
}

func newAgent(opts Options, fc FileConfig, v *vault.Vault, relayURL string) (*agent.Agent, error) {
	open := opts.Open
	if open == nil {
		open = browser.FromEnv(opts.Getenv, nil)
	}
	cfg := agent.Config{
		Vault:          v,
		LocalProviders: append(fc.Providers, opts.LocalProviders...),
		Open:           open,
		Clock:          opts.Clock,
		Logger:         opts.Logger,
		Version:        opts.Version,
		ApproveApps:    fc.ApproveApps,
		TrayApp:        opts.TrayApp,
	}
	if relayURL != "" {
		rc := &relayclient.Client{BaseURL: relayURL, Device: v.DeviceKey(), Timeout: opts.RelayTimeout}
		if opts.Clock != nil {
			rc.Now = opts.Clock.Now
		}
		cfg.Relay = rc
	}
	return agent.New(cfg)
}

// Wait blocks until the socket stops serving and returns why.
func (d *Daemon) Wait() error {
	<-d.served
	return d.serveErr
}

// Stop stops serving, lets refreshes in flight finish and be saved, closes
// the vault and removes the socket. The caller then calls memguard.Purge.
func (d *Daemon) Stop() {
	d.stopOnce.Do(func() {
		d.cancel()
		if d.lock != nil {
			d.lock.Close()
		}
		<-d.served
		<-d.ran
		d.Agent.Close()
		if err := d.Vault.Close(); err != nil {
			slog.Default().Error("closing the vault", "err", err)
		}
		// Closing the listener removed the socket; this covers a crash of Serve.
		if err := os.Remove(d.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
			slog.Default().Warn("removing the socket", "err", err)
		}
	})
}
