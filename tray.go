//go:build !nogui

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/app"
	"github.com/tokentray/tokentray/assets"
	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/cli"
	"github.com/tokentray/tokentray/internal/polkit"
	"github.com/tokentray/tokentray/localclient"
	"github.com/tokentray/tokentray/vault"
)

// appID is FyneApp.toml's ID.
const appID = "io.github.tokentray.tokentray"

// tray runs the tray app.
var tray cli.TrayFunc = runTray

// runTray attaches to the agent that answers on the socket, or starts one in
// this process, then runs the Fyne app until Quit (or env.Context ends). An
// agent it started is stopped on the way out and memory wiped.
func runTray(env cli.Env) int {
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	logger := slog.New(slog.NewTextHandler(env.Stderr, nil))
	socket := localclient.SocketPath(env.Getenv)
	// One tray app per agent: a second launch shows the first one's window
	// and leaves, before it starts anything (docs/cli.md).
	inst, err := app.ClaimInstance(socket)
	if errors.Is(err, app.ErrAlreadyRunning) {
		if err := app.ShowRunning(socket); err != nil {
			logger.Warn("could not reach the running tray app", "err", err)
			fmt.Fprintln(env.Stderr, "tokentray is already running, but its window could not be brought up; see the first one's log.")
			return 1
		}
		fmt.Fprintln(env.Stderr, "tokentray is already running; its window is shown now.")
		return 0
	}
	if err != nil {
		logger.Error("claim the tray app", "err", err)
		fmt.Fprintf(env.Stderr, "tokentray cannot start: %v\n", err)
		return 1
	}
	defer inst.Close()
	client := localclient.NewClient(socket)
	defer memguard.Purge()
	forgets := env.QuitForgets
	// The window answers approval prompts only for an agent in this
	// process: never through the socket, which any program can use.
	var approver app.Approver
	_, err = client.Status(ctx)
	switch {
	case errors.Is(err, localclient.ErrAgentNotRunning):
		d, err := agentd.Start(ctx, agentd.Options{Getenv: env.Getenv, Socket: socket, Logger: logger, Version: cli.Version, TrayApp: true})
		if err != nil {
			fmt.Fprintf(env.Stderr, "tokentray: %v\n", err)
			return 1
		}
		defer d.Stop()
		forgets = forgets || d.Vault.Mode() == vault.ModeMemory
		approver = d.Approver()
	case err != nil:
		fmt.Fprintf(env.Stderr, "tokentray: the agent on %s does not answer: %v\n", socket, err)
		return 1
	default:
		logger.Info("attached to the running agent", "socket", socket)
	}

	opts := app.Options{Getenv: env.Getenv, Logger: logger, NoTray: !app.TrayHostPossible(), TrayHost: app.WatchTrayHost, Instance: inst, QuitForgets: forgets,
		Approver: approver}
	if approver != nil {
		opts.ConfirmAlways = polkitConfirm(ctx, logger)
	}
	if dir, err := agentd.ConfigDir(env.Getenv); err == nil {
		opts.ConfigPath = filepath.Join(dir, "config.toml")
		if fc, err := agentd.LoadConfig(opts.ConfigPath); err == nil {
			opts.RelayURL, _ = agentd.RelayURL(env.Getenv, fc)
		}
	}
	a := fyneapp.NewWithID(appID)
	a.SetIcon(assets.Icon)
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	app.Run(a, client, opts)
	return 0
}

// polkitConfirm returns polkit's confirmation when polkit runs and knows our
// action (deploy/polkit), else nil: then the prompt's own guards (focus on
// Deny, buttons enabled after a second) are all that stands between a
// synthetic click and a grant, as Settings says.
func polkitConfirm(ctx context.Context, logger *slog.Logger) app.ConfirmFunc {
	ok, why := polkit.Available(ctx)
	if !ok {
		logger.Info("polkit will not confirm approvals", "why", why)
		return nil
	}
	return func(ctx context.Context, what string) error {
		err := polkit.Confirm(ctx, what)
		if errors.Is(err, polkit.ErrNoAgent) {
			// No authentication agent in this session: polkit cannot ask
			// anyone, and refusing every Always would leave the trader only
			// "Allow once". A program able to stop the agent could send the
			// synthetic clicks anyway, so this is the no-polkit case.
			logger.Warn("polkit has no authentication agent in this session; the prompt's own guards confirmed", "what", what)
			return nil
		}
		return err
	}
}

// The tray's window answers approval prompts through the agent in this process.
var _ app.Approver = (*agentd.Approver)(nil)
