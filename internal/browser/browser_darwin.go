package browser

import "context"

// System opens url with open(1), which hands it to the default browser
// (xdg-open on Linux, the shell's URL handler on Windows). URLs CheckURL
// refuses are never opened; the URL never starts with '-', so open cannot
// read it as an option.
func System(ctx context.Context, url string) error {
	if err := CheckURL(url); err != nil {
		return err
	}
	return startDetached([]string{"/usr/bin/open", url})
}
