package agentd

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// hardenProcess makes the process non-dumpable before any key is in memory:
// no core file is written, and another process of the same user can neither
// ptrace it nor read /proc/PID/mem (where the keys are, locked or not).
func hardenProcess() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("make the process non-dumpable: %w", err)
	}
	return nil
}
