// Package cli implements the tokentray subcommands (CONTRACTS §5).
package cli

import (
	"fmt"
	"io"
)

// TrayFunc runs the tray app until it quits and returns the exit code. It is
// nil in a build without the GUI.
type TrayFunc func(env Env) int

// Env is what a command may touch of the process.
type Env struct {
	Stdout io.Writer // only what scripts consume
	Stderr io.Writer // messages
	Getenv func(string) string
	Tray   TrayFunc
}

const usage = `tokentray — fresh exchange API keys for your scripts, from a local socket.

Usage:
  tokentray                 the tray app
  tokentray SUBCOMMAND ...  see CONTRACTS §5 (agent, demo, connect, ls, token, sign,
                            api, refresh, revoke, status)
`

// Main runs tokentray with the given arguments and returns the process exit code.
func Main(args []string, env Env) int {
	if len(args) == 0 {
		if env.Tray == nil {
			fmt.Fprint(env.Stderr, "tokentray: this build has no tray app (built with -tags nogui); see tokentray --help\n")
			return 2
		}
		return env.Tray(env)
	}
	if args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(env.Stderr, usage)
		return 0
	}
	fmt.Fprintf(env.Stderr, "tokentray: %q is not built yet\n", args[0])
	return 2
}
