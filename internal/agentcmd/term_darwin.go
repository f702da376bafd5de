package agentcmd

import (
	"os"

	"golang.org/x/sys/unix"
)

// readNoEcho reads one line from the terminal f with echo turned off. done
// is false when f is not a terminal.
func readNoEcho(f *os.File) (p []byte, done bool, err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TIOCGETA)
	if err != nil {
		return nil, false, nil
	}
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TIOCSETA, &quiet); err != nil {
		return nil, false, nil
	}
	defer unix.IoctlSetTermios(fd, unix.TIOCSETA, old)
	p, err = readLine(f)
	return p, true, err
}
