package safesocket

import (
	"errors"
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sioAFUnixGetPeerPID is SIO_AF_UNIX_GETPEERPID of <afunix.h>:
// _WSAIOR(IOC_VENDOR, 256), the pid of the process at the other end.
const sioAFUnixGetPeerPID = windows.IOC_OUT | windows.IOC_VENDOR | 256

// peerOf asks the socket for the peer's pid (SIO_AF_UNIX_GETPEERPID, the
// process that connected), then reads the user SID from that process's token
// and its executable with QueryFullProcessImageName. A process this user may
// not query is refused by the caller, as is any read that fails.
func peerOf(c *net.UnixConn) (Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("raw socket: %w", err)
	}
	var pid, n uint32
	var pidErr error
	if err := raw.Control(func(fd uintptr) {
		pidErr = windows.WSAIoctl(windows.Handle(fd), sioAFUnixGetPeerPID, nil, 0,
			(*byte)(unsafe.Pointer(&pid)), uint32(unsafe.Sizeof(pid)), &n, nil, 0)
	}); err != nil {
		return Peer{}, fmt.Errorf("raw socket control: %w", err)
	}
	if pidErr != nil {
		return Peer{}, fmt.Errorf("SIO_AF_UNIX_GETPEERPID: %w", pidErr)
	}
	if n != uint32(unsafe.Sizeof(pid)) || pid == 0 {
		return Peer{}, errors.New("SIO_AF_UNIX_GETPEERPID: no pid")
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return Peer{}, fmt.Errorf("open peer process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return Peer{}, fmt.Errorf("open peer token %d: %w", pid, err)
	}
	defer tok.Close()
	tu, err := tok.GetTokenUser()
	if err != nil {
		return Peer{}, fmt.Errorf("read peer user %d: %w", pid, err)
	}
	sid := tu.User.Sid.String()
	if sid == "" {
		return Peer{}, fmt.Errorf("read peer user %d: empty SID", pid)
	}
	return Peer{PID: int(pid), UID: -1, SID: sid, Exe: imageName(h)}, nil
}

// imageName is the full path of the process's executable; "" when unreadable.
func imageName(h windows.Handle) string {
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil {
		return ""
	}
	return windows.UTF16ToString(buf[:n])
}
