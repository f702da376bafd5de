//go:build !windows

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The desktop's autostart entry and macOS's LaunchAgent are both one file
// that exists while "Start at login" is on; these write, remove and test it.
// what names the file in errors ("the autostart entry", "the LaunchAgent").

// writeStartFile writes content to path atomically (a temporary file, then a
// rename), creating its folder 0700 if needed.
func writeStartFile(path, content, what string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the folder of %s: %w", what, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", what, err)
	}
	return nil
}

// removeStartFile removes path; an absent file is not an error.
func removeStartFile(path, what string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", what, err)
	}
	return nil
}

// startFileExists reports whether the file at path exists (false when its
// path cannot be known).
func startFileExists(path string, err error) bool {
	if err != nil {
		return false
	}
	_, err = os.Stat(path)
	return err == nil
}
