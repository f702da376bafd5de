// Package agentcmd runs the tokentray commands that hold an agent in their own
// process: `tokentray agent` (the headless agent) and `tokentray demo` (a
// simulated exchange, relay and agent on loopback). They link the agent, the
// vault, the relay and the simulated exchange, so they live apart from the
// socket commands of package cli: a CLI call never pays for them.
package agentcmd

import "github.com/tokentray/tokentray/internal/cli"

// Agent runs `tokentray agent ARGS`.
func Agent(env cli.Env, args []string) int { return runAgent(env, args) }

// Demo runs `tokentray demo ARGS`.
func Demo(env cli.Env, args []string) int { return runDemo(env, args) }
