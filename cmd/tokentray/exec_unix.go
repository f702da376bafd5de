//go:build unix

package main

import (
	"os"
	"syscall"
)

// execApp replaces this process with app: same pid, same signals, same
// standard streams, so that `tokentray agent` under a supervisor and the
// tray app's single-instance check see one process, as before the split.
func execApp(app string, args []string) (int, error) {
	return 0, syscall.Exec(app, append([]string{app}, args...), os.Environ())
}
