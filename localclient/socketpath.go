package localclient

import "github.com/tokentray/tokentray/internal/paths"

// SocketPath returns where the agent's socket lives: $TOKENTRAY_SOCK, else
// $XDG_RUNTIME_DIR/tokentray/agent.sock, else /tmp/tokentray-$UID/agent.sock
// (macOS: ~/Library/Application Support/tokentray/agent.sock; Windows:
// %LOCALAPPDATA%\tokentray\agent.sock; internal/paths has each rule).
// getenv is os.Getenv outside tests.
func SocketPath(getenv func(string) string) string {
	return paths.Socket(paths.Current(getenv))
}
