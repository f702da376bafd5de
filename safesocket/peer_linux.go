package safesocket

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// peerOf reads the peer's credentials with SO_PEERCRED: the kernel's record
// of who connected, which the peer cannot forge.
func peerOf(c *net.UnixConn) (Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("raw socket: %w", err)
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Peer{}, fmt.Errorf("raw socket control: %w", err)
	}
	if credErr != nil {
		return Peer{}, fmt.Errorf("SO_PEERCRED: %w", credErr)
	}
	exe, _ := os.Readlink("/proc/" + strconv.Itoa(int(cred.Pid)) + "/exe")
	return Peer{PID: int(cred.Pid), UID: int(cred.Uid), Exe: exe}, nil
}
