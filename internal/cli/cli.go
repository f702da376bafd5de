// Package cli implements the tokentray subcommands.
package cli

import (
	"fmt"
	"io"
)

const usage = `tokentray — fresh exchange API keys for your scripts, from a local socket.

Usage:
  tokentray                 the tray app
  tokentray SUBCOMMAND ...  see CONTRACTS §5 (agent, demo, connect, ls, token, sign,
                            api, refresh, revoke, status)
`

// Main runs tokentray with the given arguments and returns the process exit code.
// The subcommands arrive one by one; until then they answer with a usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	fmt.Fprintf(stderr, "tokentray: %q is not built yet\n", args[0])
	return 2
}
