package localclient

import (
	"os"
	"path/filepath"
	"strconv"
)

// SocketPath returns where the agent's socket lives: $TOKENTRAY_SOCK, else
// $XDG_RUNTIME_DIR/tokentray/agent.sock, else /tmp/tokentray-$UID/agent.sock.
// getenv is os.Getenv outside tests.
func SocketPath(getenv func(string) string) string {
	if p := getenv("TOKENTRAY_SOCK"); p != "" {
		return p
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "tokentray", "agent.sock")
	}
	// Literally /tmp, not $TMPDIR: the CLI, the GUI and scripts must all find
	// the same socket whatever their environment says (docs/socket-api.md).
	return filepath.Join("/tmp", "tokentray-"+strconv.Itoa(os.Getuid()), "agent.sock")
}
