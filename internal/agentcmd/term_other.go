//go:build !linux

package cli

import "os"

// readNoEcho is not done outside Linux yet: the passphrase is read as a
// plain line (with echo).
func readNoEcho(*os.File) ([]byte, bool, error) { return nil, false, nil }
