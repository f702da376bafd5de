//go:build !darwin && !windows

package browser

import "context"

// System opens url with the system's opener: xdg-open here (Linux and
// other Unix desktops), open(1) on macOS, the shell's URL handler on
// Windows. URLs CheckURL refuses are never opened.
func System(ctx context.Context, url string) error {
	return XDGOpen(ctx, url)
}
