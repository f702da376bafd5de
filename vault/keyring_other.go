//go:build !linux

package vault

import (
	"errors"
	"fmt"
)

// classifyKeyringError wraps keyring errors on systems without a Secret Service mapping yet.
func classifyKeyringError(err error) error {
	if err == nil || errors.Is(err, errNotFound) {
		return err
	}
	return fmt.Errorf("keyring: %w", err)
}

// checkSessionBus has nothing to check outside Linux.
func checkSessionBus(func(string) string) error { return nil }
