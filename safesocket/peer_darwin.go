package safesocket

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// xucredVersion is XUCRED_VERSION of <sys/ucred.h>, the only layout the
// kernel answers with.
const xucredVersion = 0

// peerOf reads the peer's credentials with LOCAL_PEERCRED (uid) and
// LOCAL_PEERPID (pid): the kernel's record of who connected, taken at
// connect time, which the peer cannot forge. The executable comes from
// sysctl KERN_PROCARGS2 (no cgo).
func peerOf(c *net.UnixConn) (Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("raw socket: %w", err)
	}
	var cred *unix.Xucred
	var pid int
	var credErr, pidErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		pid, pidErr = unix.GetsockoptInt(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERPID)
	}); err != nil {
		return Peer{}, fmt.Errorf("raw socket control: %w", err)
	}
	if credErr != nil {
		return Peer{}, fmt.Errorf("LOCAL_PEERCRED: %w", credErr)
	}
	if cred.Version != xucredVersion {
		return Peer{}, fmt.Errorf("LOCAL_PEERCRED: xucred version %d, want %d", cred.Version, xucredVersion)
	}
	if pidErr != nil {
		return Peer{}, fmt.Errorf("LOCAL_PEERPID: %w", pidErr)
	}
	exe := ""
	if b, err := unix.SysctlRaw("kern.procargs2", pid); err == nil {
		exe, _ = parseProcArgs2(b)
	}
	return Peer{PID: pid, UID: int(cred.Uid), Exe: exe}, nil
}
