//go:build !linux

package localapi

import (
	"errors"
	"net"
)

// peerOf is not written yet for this system: every peer is refused rather
// than let in unchecked.
func peerOf(*net.UnixConn) (Peer, error) {
	return Peer{}, errors.New("peer credentials are not supported on this system yet")
}
