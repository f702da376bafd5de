//go:build linux

package polkit

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// startTime returns this process's start time in clock ticks since boot:
// field 22 of /proc/self/stat, which polkit compares to tell a process from
// a later one with the same pid.
func startTime() (uint64, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, fmt.Errorf("read this process's start time: %w", err)
	}
	return parseStartTime(string(b))
}

// parseStartTime reads field 22 of a /proc/PID/stat line. The command
// name (field 2) is in parentheses and may hold spaces and parentheses, so
// the fields are counted from the last ')'.
func parseStartTime(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("read this process's start time: /proc/self/stat has no command name")
	}
	fields := strings.Fields(stat[i+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return 0, errors.New("read this process's start time: /proc/self/stat is too short")
	}
	t, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read this process's start time: %w", err)
	}
	return t, nil
}
