//go:build !linux && !darwin && !windows

package agentcmd

import "os"

// readNoEcho is not written for this system (tokentray supports Linux,
// macOS and Windows): the passphrase is read as a plain line (with echo).
func readNoEcho(*os.File) ([]byte, bool, error) { return nil, false, nil }
