//go:build !unix

package localclient

import "net"

// dialBlocking connects to the socket at path; on this system through the
// net package, as any other dial.
func dialBlocking(path string) (socketConn, error) {
	return net.Dial("unix", path)
}
