//go:build windows

package main

import (
	"errors"
	"os"
	"os/exec"
)

// execApp runs app as a child with this process's standard streams and
// returns its exit code: Windows cannot replace a running process. Ctrl-C
// reaches both, since they share the console.
func execApp(app string, args []string) (int, error) {
	cmd := exec.Command(app, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}
