//go:build !unix

package app

import "os"

// lockFile has no flock to take here: the tray socket alone tells a second
// launch from the first.
func lockFile(string) (*os.File, error) { return nil, nil }
