package agentcmd

import (
	"os"

	"golang.org/x/sys/windows"
)

// readNoEcho reads one line from the console f with echo turned off. done
// is false when f is not a console.
func readNoEcho(f *os.File) (p []byte, done bool, err error) {
	h := windows.Handle(f.Fd())
	var old uint32
	if err := windows.GetConsoleMode(h, &old); err != nil {
		return nil, false, nil
	}
	quiet := old&^windows.ENABLE_ECHO_INPUT | windows.ENABLE_LINE_INPUT | windows.ENABLE_PROCESSED_INPUT
	if err := windows.SetConsoleMode(h, quiet); err != nil {
		return nil, false, nil
	}
	defer windows.SetConsoleMode(h, old)
	p, err = readLine(f)
	return p, true, err
}
