package safesocket

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/tokentray/tokentray/localclient"
)

// ErrForeignSocket reports a live socket at the agent's path that does not
// answer as a tokentray agent: another program's, which is never removed.
var ErrForeignSocket = errors.New("the socket belongs to another program")

// probeTimeout bounds the /v1/status call that tells an agent from another
// program listening on the path.
const probeTimeout = 3 * time.Second

// answersAsAgent reports whether the program listening on path answers
// GET /v1/status as a tokentray agent does, within probeTimeout.
func answersAsAgent(path string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	c := localclient.NewClient(path)
	defer c.CloseIdleConnections()
	s, err := c.Status(ctx)
	return err == nil && s.PID > 0 && s.Version != ""
}

// liveSocketError is what Listen says about a socket someone answers on.
func liveSocketError(path string) error {
	if answersAsAgent(path) {
		return fmt.Errorf("%s: %w", path, ErrAgentRunning)
	}
	return fmt.Errorf("%s is the live socket of another program, which does not answer as a tokentray agent; it is left alone: set TOKENTRAY_SOCK to a path in a folder of your own: %w", path, ErrForeignSocket)
}

// openFolderError says why a socket folder open to others is refused and
// what to do, without advising to close a folder others share (/tmp).
func openFolderError(dir string, mode fs.FileMode) error {
	bits := uint32(mode.Perm())
	if mode&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	if mode&fs.ModeSticky != 0 || mode.Perm()&0o002 != 0 {
		return fmt.Errorf("socket folder %s is shared with others (mode %04o): put the socket in a folder of your own, e.g. TOKENTRAY_SOCK=$XDG_RUNTIME_DIR/tokentray/agent.sock or unset TOKENTRAY_SOCK (a missing folder is created 0700)", dir, bits)
	}
	return fmt.Errorf("socket folder %s is open to others (mode %04o): put the socket in a folder of your own (a missing one is created 0700), or, if nobody else uses this one, close it yourself with chmod 700 %s", dir, bits, dir)
}
