// Command tokentray-app is the whole of tokentray in one program: the tray
// app (no arguments), the headless agent (`agent`), the demo (`demo`) and
// every socket command. `make install` puts it beside the small `tokentray`
// command (cmd/tokentray), which hands it the tray app, agent and demo and
// runs the socket commands itself at the cost of a hello-world. Built on its
// own (`go build .`), this program is a complete tokentray. See README.md.
package main

import (
	"os"

	"github.com/tokentray/tokentray/internal/agentcmd"
	"github.com/tokentray/tokentray/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Stdin:  os.Stdin,
		Getenv: os.Getenv,
		Tray:   tray, // tray.go, or nil in a nogui build (tray_nogui.go)
		Agent:  agentcmd.Agent,
		Demo:   agentcmd.Demo,
	}))
}
