package vault

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// readPID reads the holder's pid, waiting briefly for a holder that has locked but not
// yet written it; 0 when unknown.
func readPID(path string) int {
	for range 20 {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0
}
