package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/tokentray/tokentray/internal/cli"
)

// appName is the whole program: the tray app, the agent and the demo.
const appName = "tokentray-app"

// handOver runs tokentray-app with args in place of this process (see
// execApp) and returns an exit code only when that cannot happen.
func handOver(env cli.Env, args []string) int {
	app, err := findApp()
	if err != nil {
		fmt.Fprintf(env.Stderr, "tokentray: %s\n", err)
		return cli.ExitError
	}
	code, err := execApp(app, args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "tokentray: start %s: %s\n", app, err)
		return cli.ExitError
	}
	return code
}

// findApp returns tokentray-app beside this executable (where `make
// install` and the packages put it, following a symlink to this one), else
// the one on PATH.
func findApp() (string, error) {
	name := appName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		candidate := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	if p, err := exec.LookPath(appName); err == nil {
		return p, nil
	}
	return "", errors.New(appName + " is not installed beside tokentray or on PATH; it holds the tray app, `tokentray agent` and `tokentray demo` (make install puts both)")
}
