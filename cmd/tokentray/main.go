// Command tokentray is what scripts and people type: `tokentray token`,
// `tokentray sign`, `tokentray ls` and the other socket commands. It links
// only the socket client, so a call costs about what a Go hello-world does
// (README, "Numbers"). The tray app, `tokentray agent` and `tokentray demo`
// live in tokentray-app, installed beside it; for those this program hands
// its whole command line over to tokentray-app.
package main

import (
	"os"

	"github.com/tokentray/tokentray/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Stdin:  os.Stdin,
		Getenv: os.Getenv,
		Tray:   func(env cli.Env) int { return handOver(env, nil) },
		Agent:  func(env cli.Env, args []string) int { return handOver(env, append([]string{"agent"}, args...)) },
		Demo:   func(env cli.Env, args []string) int { return handOver(env, append([]string{"demo"}, args...)) },
	}))
}
