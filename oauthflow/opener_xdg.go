//go:build !darwin && !windows

package oauthflow

import "context"

// SystemOpen opens url with the system's opener: xdg-open here (Linux and
// other Unix desktops), open(1) on macOS, the shell's URL handler on
// Windows. URLs CheckOpenURL refuses are never opened.
func SystemOpen(ctx context.Context, url string) error {
	return XDGOpen(ctx, url)
}
