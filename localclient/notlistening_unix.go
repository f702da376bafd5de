//go:build unix

package localclient

import (
	"errors"
	"syscall"
)

// isNotListening reports whether err means no agent owns the socket: no
// socket file, or nobody listening on it.
func isNotListening(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}
