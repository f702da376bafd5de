// Package cli implements the tokentray subcommands (docs/cli.md).
//
// Every subcommand here is a client of the agent's socket (localclient), and
// the package links nothing else of tokentray, so that a CLI call costs about
// what a hello-world does. The commands that need the whole program — the
// tray app, the agent and the demo — are hooks in Env: the full program
// (tokentray-app) runs them in its own process (package agentcmd); the small
// tokentray binary hands them to tokentray-app. stdout carries only what scripts consume; every message
// goes to stderr. --help prints the usage on stdout (the user asked for it)
// and exits 0; a usage error prints it on stderr and exits 2.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tokentray/tokentray/localclient"
)

// TrayFunc runs the tray app until it quits and returns the exit code. It is
// nil in a build without the GUI.
type TrayFunc func(env Env) int

// RunFunc runs one subcommand with its arguments and returns the exit code.
type RunFunc func(env Env, args []string) int

// Env is what a command may touch of the process.
type Env struct {
	Stdout io.Writer // only what scripts consume
	Stderr io.Writer // messages
	Stdin  io.Reader // the vault passphrase of `tokentray agent`; nil: none
	Getenv func(string) string
	Tray   TrayFunc
	// Agent and Demo run `tokentray agent` and `tokentray demo`; nil in a
	// build that has neither.
	Agent RunFunc
	Demo  RunFunc
	// Context, when set, is done when the tray app should quit. The demo
	// passes one that ends on SIGINT/SIGTERM; nil means context.Background().
	Context context.Context
	// QuitForgets tells the tray app that its Quit ends a memory-only vault
	// (the demo's), so Quit asks first.
	QuitForgets bool
}

// The exit codes of docs/cli.md.
const (
	exitOK           = 0
	exitError        = 1
	exitUsage        = 2
	exitNotConnected = 3 // not connected, not found, needs reconnect
	exitNoAgent      = 4
	exitNotApproved  = 5 // approval_required or denied
)

// Version is reported by the agent's /v1/status; set it with -ldflags
// "-X github.com/tokentray/tokentray/internal/cli.Version=…".
var Version = "dev"

const usage = `tokentray — fresh exchange API keys for your scripts, from a local socket.

Usage:
  tokentray                                   the tray app
  tokentray agent                             run the agent in the foreground (no GUI)
  tokentray demo [--headless] [--check]       a simulated exchange, relay and agent on loopback
  tokentray connect PROVIDER [--scope a,b] [--field k=v]...
  tokentray ls [--json]
  tokentray token [CONN] [--json] [--min-valid DUR]
  tokentray sign CONN METHOD PATH [k=v...] [--json]
  tokentray api CONN METHOD PATH [k=v...]
  tokentray refresh CONN
  tokentray revoke CONN
  tokentray status
  tokentray default CONN
  tokentray apps [--json]
  tokentray approve PATH|SCRIPT [--connection ID]

CONN is a connection id, or a provider id: its only connection, else its default.
The agent's socket is $TOKENTRAY_SOCK, else $XDG_RUNTIME_DIR/tokentray/agent.sock.
Run tokentray COMMAND --help for the details of one command.

Exit codes: 0 ok, 1 error, 2 usage, 3 not connected / not found / needs
reconnect, 4 agent not running, 5 not approved.
`

// command is one subcommand: its usage text and how it runs.
type command struct {
	usage string
	run   func(env Env, args []string) int
}

var commands map[string]command

func init() {
	// Set here, not in the declaration, because the commands' help reads it.
	commands = map[string]command{
		"agent":   {"", func(env Env, args []string) int { return runHook(env, "agent", env.Agent, args) }},
		"demo":    {"", func(env Env, args []string) int { return runHook(env, "demo", env.Demo, args) }},
		"connect": {connectUsage, runConnect},
		"ls":      {lsUsage, runLs},
		"token":   {tokenUsage, runToken},
		"sign":    {signUsage, runSign},
		"api":     {apiUsage, runAPI},
		"refresh": {refreshUsage, runRefresh},
		"revoke":  {revokeUsage, runRevoke},
		"status":  {statusUsage, runStatus},
		"default": {defaultUsage, runDefault},
		"apps":    {appsUsage, runApps},
		"approve": {approveUsage, runApprove},
	}
}

// Main runs tokentray with the given arguments and returns the process exit code.
func Main(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Context == nil {
		env.Context = context.Background()
	}
	if len(args) == 0 {
		if env.Tray == nil {
			fmt.Fprint(env.Stderr, "tokentray: this build has no tray app (built with -tags nogui); see tokentray --help\n")
			return exitUsage
		}
		return env.Tray(env)
	}
	switch args[0] {
	case "--help", "-help", "-h", "help":
		fmt.Fprint(env.Stdout, usage)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "tokentray: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	return cmd.run(env, args[1:])
}

// runHook runs a command of the whole program, if this build has it.
func runHook(env Env, name string, run RunFunc, args []string) int {
	if run == nil {
		fmt.Fprintf(env.Stderr, "tokentray: this build has no %s command; see tokentray --help\n", name)
		return exitUsage
	}
	return run(env, args)
}

// client returns the socket client for env.
func client(env Env) *localclient.Client {
	return localclient.NewClient(localclient.SocketPath(env.Getenv))
}

// fail prints err on stderr and returns the exit code it stands for.
func fail(env Env, name string, err error) int {
	fmt.Fprintf(env.Stderr, "tokentray %s: %s\n", name, errorText(err))
	return exitCode(err)
}

// failConn is fail for an error about the connection conn: the hint of a
// needs-reconnect error names the connection's provider, which the agent
// still knows (a connection that needs reconnecting is kept).
func failConn(env Env, name, conn string, err error) int {
	if !errors.Is(err, localclient.ErrNeedsReconnect) {
		return fail(env, name, err)
	}
	provider := conn
	if c, lerr := client(env).Connection(env.Context, conn); lerr == nil && c.Provider != "" {
		provider = c.Provider
	}
	fmt.Fprintf(env.Stderr, "tokentray %s: %s (run: tokentray connect %s)\n", name, err.Error(), provider)
	return exitCode(err)
}

// errorText is err's message, with a hint where one helps.
func errorText(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, localclient.ErrNeedsReconnect):
		return msg + " (reconnect it in the tray app, or run tokentray connect with its provider)"
	case errors.Is(err, localclient.ErrForbidden) && strings.Contains(msg, "raw"):
		return msg + " (scripts may still sign through the agent: tokentray sign)"
	}
	return msg
}

// exitCode maps an error of the socket client to the exit codes of §5.
func exitCode(err error) int {
	var usageErr *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usageErr), errors.Is(err, localclient.ErrBadRequest):
		return exitUsage
	case errors.Is(err, localclient.ErrAgentNotRunning):
		return exitNoAgent
	case errors.Is(err, localclient.ErrApprovalRequired), errors.Is(err, localclient.ErrDenied):
		return exitNotApproved
	case errors.Is(err, localclient.ErrNotFound), errors.Is(err, localclient.ErrNeedsReconnect),
		errors.Is(err, errNotConnected):
		return exitNotConnected
	}
	return exitError
}

// errNotConnected reports that there is no connection to act on.
var errNotConnected = errors.New("no connection yet (run: tokentray connect exchange)")
