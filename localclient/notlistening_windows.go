//go:build windows

package localclient

import (
	"errors"
	"io/fs"

	"golang.org/x/sys/windows"
)

// isNotListening reports whether err means no agent owns the socket: no
// socket file, or nobody listening on it.
func isNotListening(err error) bool {
	return errors.Is(err, windows.WSAECONNREFUSED) || errors.Is(err, fs.ErrNotExist)
}
