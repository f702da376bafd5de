package oauthflow

import "context"

// SystemOpen opens url with open(1), which hands it to the default browser
// (xdg-open on Linux, the shell's URL handler on Windows). URLs CheckOpenURL
// refuses are never opened; the URL never starts with '-', so open cannot
// read it as an option.
func SystemOpen(ctx context.Context, url string) error {
	if err := CheckOpenURL(url); err != nil {
		return err
	}
	return startDetached([]string{"/usr/bin/open", url})
}
