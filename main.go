// Command tokentray connects a trader's exchange account and hands fresh API keys
// to the trader's own scripts over a local socket. See README.md.
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
		Tray:   tray, // tray.go, or nil in a nogui build (tray_nogui.go)
	}))
}
