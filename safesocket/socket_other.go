//go:build !unix && !windows

package safesocket

import "errors"

// errUnsupported: tokentray's socket runs on Linux, macOS, other Unix and Windows.
var errUnsupported = errors.New("the agent's socket is not supported on this system")

func ensurePrivateDir(string) error { return errUnsupported }
func restrictSocket(string) error   { return errUnsupported }
func currentUser() (Peer, error)    { return Peer{}, errUnsupported }
func isConnRefused(error) bool      { return false }
