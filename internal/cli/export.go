package cli

import "flag"

// What the commands of package agentcmd share with the socket commands here:
// the same argument parsing, messages and exit codes (docs/cli.md).

// The exit codes of docs/cli.md.
const (
	ExitOK           = exitOK
	ExitError        = exitError
	ExitUsage        = exitUsage
	ExitNotConnected = exitNotConnected
	ExitNoAgent      = exitNoAgent
)

// NewFlags returns a flag set for ParseArgs.
func NewFlags(name string) *flag.FlagSet { return newFlags(name) }

// ParseArgs parses a command's arguments as every tokentray command does:
// flags anywhere, --help on stdout, a mistake with the usage on stderr. ok is
// false when the command should return code at once.
func ParseArgs(env Env, name, usageText string, fs *flag.FlagSet, args []string, min, max int) (pos []string, code int, ok bool) {
	return parseArgs(env, name, usageText, fs, args, min, max)
}

// Fail prints err on stderr as command name's failure and returns its exit code.
func Fail(env Env, name string, err error) int { return fail(env, name, err) }

// PeatioError returns the code and message of an exchange's error body
// {"error":{"code":N,"message":M}}, or 0.
func PeatioError(body []byte) (int, string) { return peatioError(body) }
