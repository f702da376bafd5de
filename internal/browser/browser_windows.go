package browser

import (
	"context"
	"errors"

	"golang.org/x/sys/windows"
)

// System opens url with the shell's URL handler (ShellExecute "open"),
// the default browser for https; no command line or cmd.exe is involved, so
// nothing in the URL is parsed as shell syntax (xdg-open on Linux, open(1)
// on macOS). URLs CheckURL refuses are never opened. The error never
// holds the URL.
func System(ctx context.Context, url string) error {
	if err := CheckURL(url); err != nil {
		return err
	}
	verb, err := windows.UTF16PtrFromString("open")
	if err != nil {
		return errors.New("open browser: bad verb")
	}
	file, err := windows.UTF16PtrFromString(url)
	if err != nil {
		return errors.New("open browser: the URL holds a NUL")
	}
	if err := windows.ShellExecute(0, verb, file, nil, nil, windows.SW_SHOWNORMAL); err != nil {
		return errors.New("open browser: ShellExecute failed: " + err.Error())
	}
	return nil
}
