//go:build unix

package localclient

import (
	"os"
	"syscall"
)

// dialBlocking connects to the Unix socket at path with a blocking socket,
// which reads and writes with plain system calls. Its deadlines do not work,
// so it serves only calls that nothing cancels.
func dialBlocking(path string) (socketConn, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "connect", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
