package agentcmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/awnumar/memguard"

	"github.com/tokentray/tokentray/internal/agentd"
	"github.com/tokentray/tokentray/internal/browser"
	"github.com/tokentray/tokentray/internal/cli"
	"github.com/tokentray/tokentray/internal/devstack"
	"github.com/tokentray/tokentray/internal/devworld"
	"github.com/tokentray/tokentray/internal/fakeexchange"
	"github.com/tokentray/tokentray/oauthflow"
)

const demoUsage = `Usage: tokentray demo [--headless] [--check]

Runs a simulated exchange ("exchange"), a relay and an agent on loopback
ports, with a temporary home and a memory-only vault: nothing of yours is
read or touched, and everything is gone when the demo stops (Ctrl-C).
The agent's socket is $TOKENTRAY_SOCK when set, else one in the temporary
home. stdout gets lines for your shell:

  export TOKENTRAY_SOCK=...       where the demo agent listens
  export TOKENTRAY_EXCHANGE=...   the simulated exchange's base URL

  --headless  no tray app, even with a display; connect from the CLI:
              tokentray connect exchange (the consent page opens in $BROWSER)
  --check     run the whole story without a browser and exit 0 if it works:
              connect (auto-approved), read the key, sign and call
              /api/v2/members/me, refresh, revoke; one line per step on stderr
`

func runDemo(env cli.Env, args []string) int {
	fs := cli.NewFlags("demo")
	headless := fs.Bool("headless", false, "")
	check := fs.Bool("check", false, "")
	if _, code, ok := cli.ParseArgs(env, "demo", demoUsage, fs, args, 0, 0); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(env.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer memguard.Purge()
	if *check {
		return runCheck(ctx, env)
	}

	logger := slog.New(slog.NewTextHandler(env.Stderr, nil))
	d, err := startDemo(ctx, env, demoOptions{
		socket:   env.Getenv("TOKENTRAY_SOCK"),
		approval: fakeexchange.Manual,
		logger:   logger,
	})
	if err != nil {
		return cli.Fail(env, "demo", err)
	}
	defer d.close()

	fmt.Fprintf(env.Stdout, "export TOKENTRAY_SOCK=%s\nexport TOKENTRAY_EXCHANGE=%s\n",
		shellQuote(d.Socket), shellQuote(d.Stack.ExchangeURL))
	display := env.Getenv("DISPLAY") != "" || env.Getenv("WAYLAND_DISPLAY") != ""
	if !*headless && env.Tray != nil && display {
		fmt.Fprintf(env.Stderr, "tokentray demo: the tray app attaches to the demo agent; click Connect, then EXchange.\n")
		keepFilesInHome(d.Home)
		// The tray app runs on this goroutine (the GUI needs the main
		// thread), sees the demo's TOKENTRAY_SOCK and TOKENTRAY_HOME through
		// Getenv and quits when Context ends (SIGINT/SIGTERM).
		return env.Tray(cli.Env{Stdout: env.Stdout, Stderr: env.Stderr, Stdin: env.Stdin,
			Getenv: d.Getenv, Context: ctx, QuitForgets: true})
	}
	fmt.Fprintf(env.Stderr, `tokentray demo: running headless: a simulated exchange at %s,
a relay at %s and an agent on %s.
In another shell:
  export TOKENTRAY_SOCK=%s
  tokentray connect exchange      # the consent page opens in $BROWSER; approve it there
  tokentray token                 # prints ACCESS_KEY:SECRET_KEY
  tokentray api exchange GET /api/v2/members/me
Ctrl-C stops the demo and forgets everything.
`, d.Stack.ExchangeURL, d.Stack.RelayURL, d.Socket, shellQuote(d.Socket))
	<-ctx.Done()
	fmt.Fprintln(env.Stderr, "tokentray demo: stopping")
	return cli.ExitOK
}

// keepFilesInHome points the user folders of this process at home, so that
// the demo's tray app keeps what Fyne writes (preferences, font cache) and
// what the GL and font libraries cache in the temporary home, not the
// trader's. The browser the demo opens keeps the trader's environment.
func keepFilesInHome(home string) {
	browser.KeepEnvironment(os.Environ())
	for name, dir := range map[string]string{"XDG_CONFIG_HOME": ".config", "XDG_CACHE_HOME": ".cache", "XDG_DATA_HOME": ".local/share", "XDG_STATE_HOME": ".local/state"} {
		os.Setenv(name, filepath.Join(home, dir))
	}
}

// demoOptions configure startDemo.
type demoOptions struct {
	socket   string // "": a socket in the temporary home
	approval fakeexchange.Approval
	open     oauthflow.Opener // nil: $BROWSER, else the desktop's opener
	logger   *slog.Logger
}

// demo is a running simulated world with the demo's own environment.
type demo struct {
	*devworld.World
	env cli.Env
}

// startDemo starts the simulated world: the stack and an agent with a memory
// vault in a new temporary home. The caller calls close, then memguard.Purge.
func startDemo(ctx context.Context, env cli.Env, opts demoOptions) (*demo, error) {
	w, err := devworld.Start(ctx, devworld.Options{
		Stack:      devstack.Options{Approval: opts.approval},
		Agent:      agentd.Options{Socket: opts.socket, Open: opts.open, Logger: opts.logger, Version: cli.Version + " (demo)"},
		Getenv:     env.Getenv,
		HomePrefix: "tokentray-demo-",
	})
	if err != nil {
		return nil, err // it says which part failed to start
	}
	return &demo{World: w, env: env}, nil
}

// close stops the agent and the stack and removes the temporary home.
func (d *demo) close() {
	if err := d.Close(); err != nil {
		fmt.Fprintf(d.env.Stderr, "tokentray demo: %s\n", err)
	}
}

// followOpener is the browser of demo --check: it follows the authorize URL
// through the auto-approving exchange and the relay to the agent's loopback
// listener, in the background as a browser would, once the URL passed the
// check every real opener makes.
func followOpener(ctx context.Context, u string) error {
	if err := browser.CheckURL(u); err != nil {
		return err
	}
	return devstack.Browser(ctx, u)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:+=,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
