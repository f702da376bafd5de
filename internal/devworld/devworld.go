// Package devworld starts the whole simulated world on this machine: the
// simulated exchange and a relay (package devstack) and an agent with a
// memory vault serving its socket in a temporary home. `tokentray demo`,
// uidemo, the benches and the tests run it; nothing of the user's is read
// or touched.
//
// It is a package of its own, not part of devstack, because it links the
// agent: the agent's own tests use devstack and could not import it.
package devworld

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/vault"
)

// Options configure Start. The zero value is a world whose exchange shows a
// consent page nobody answers and whose agent opens the user's browser:
// tests set Agent.Open to devstack.Browser and Stack.Approval to
// fakeexchange.AutoApprove.
type Options struct {
	// Stack configures the simulated exchange and relay; Stack.Dir defaults
	// to the world's home. Ignored when RunningStack is set.
	Stack devstack.Options
	// RunningStack, when set, is used instead of starting one; Close then
	// leaves it running.
	RunningStack *devstack.Stack
	// Agent configures the agent. Start fills in Getenv (World.Getenv),
	// VaultMode (memory) and, where empty, Socket (a socket in the home),
	// VaultDir (the home's vault folder), RelayURL (the stack's relay) and
	// Logger (discarded).
	Agent agentd.Options
	// HomePrefix starts the name of the temporary home; default
	// "tokentray-world-".
	HomePrefix string
	// Getenv is the rest of the environment, for what World.Getenv does not
	// answer itself; nil means an empty one.
	Getenv func(string) string
}

// World is a running simulated exchange, relay and agent with a temporary
// home.
type World struct {
	Home   string // the temporary home, removed by Close
	Socket string // the agent's socket
	Stack  *devstack.Stack
	Agent  *agentd.Daemon
	Client *localclient.Client // a client of the agent's socket

	ownStack bool
	relayURL string // the relay the agent calls
	getenv   func(string) string
}

// Start starts the stack (unless RunningStack is given) and an agent with a
// memory vault in a new temporary home. The socket is in that home unless
// opts.Agent.Socket says otherwise; the home's path is short, as socket
// paths must be (108 bytes). The caller calls Close.
func Start(ctx context.Context, opts Options) (*World, error) {
	prefix := opts.HomePrefix
	if prefix == "" {
		prefix = "tokentray-world-"
	}
	home, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, fmt.Errorf("make the world's home: %w", err)
	}
	w := &World{Home: home, Stack: opts.RunningStack, getenv: opts.Getenv}
	if w.getenv == nil {
		w.getenv = func(string) string { return "" }
	}
	if w.Stack == nil {
		so := opts.Stack
		if so.Dir == "" {
			so.Dir = home
		}
		w.Stack, err = devstack.Start(so)
		if err != nil {
			os.RemoveAll(home)
			return nil, fmt.Errorf("start the simulated exchange and relay: %w", err)
		}
		w.ownStack = true
	}
	ao := opts.Agent
	if ao.Socket == "" {
		ao.Socket = filepath.Join(home, "run", "agent.sock")
	}
	w.Socket = ao.Socket
	if ao.VaultDir == "" {
		ao.VaultDir = filepath.Join(home, "vault")
	}
	if ao.RelayURL == "" {
		ao.RelayURL = w.Stack.RelayURL
	}
	w.relayURL = ao.RelayURL
	if ao.Logger == nil {
		ao.Logger = slog.New(slog.DiscardHandler)
	}
	memory := vault.ModeMemory
	ao.VaultMode = &memory
	ao.Getenv = w.Getenv
	w.Agent, err = agentd.Start(ctx, ao)
	if err != nil {
		w.closeStack()
		os.RemoveAll(home)
		return nil, fmt.Errorf("start the agent: %w", err)
	}
	w.Client = localclient.NewClient(w.Socket)
	return w, nil
}

// Getenv is the world's environment: the home, socket, relay (the one the
// agent calls) and exchange of the world, and the rest from Options.Getenv. XDG_CONFIG_HOME points
// into the home too, so that nothing a tray app writes there (the "Start at
// login" entry, its theme) reaches the user's own folders.
func (w *World) Getenv(key string) string {
	switch key {
	case "TOKENTRAY_HOME":
		return w.Home
	case "XDG_CONFIG_HOME":
		return filepath.Join(w.Home, "config")
	case "TOKENTRAY_SOCK":
		return w.Socket
	case "TOKENTRAY_RELAY":
		return w.relayURL
	case "TOKENTRAY_EXCHANGE":
		return w.Stack.ExchangeURL
	}
	return w.getenv(key)
}

// Connect connects the simulated exchange's account through the socket with
// scopes (none: the provider's defaults); the agent's opener must approve
// it (devstack.Browser with AutoApprove).
func (w *World) Connect(ctx context.Context, scopes ...string) (*localclient.Connection, error) {
	c, err := w.Client.Connect(ctx, localclient.ConnectRequest{Provider: devstack.ProviderID, Scopes: scopes}, nil)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", devstack.ProviderID, err)
	}
	return c, nil
}

// Close stops the agent and the stack it started, and removes the home.
func (w *World) Close() error {
	w.Client.CloseIdleConnections()
	w.Agent.Stop()
	w.closeStack()
	if err := os.RemoveAll(w.Home); err != nil {
		return fmt.Errorf("remove the world's home: %w", err)
	}
	return nil
}

func (w *World) closeStack() {
	if w.ownStack {
		w.Stack.Close()
	}
}
