package app

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// Start at login on Windows is a value under HKEY_CURRENT_USER's Run key
// (runKeyPath): the quoted program path (runValue), run at the user's next
// sign-in. getenv is unused: the registry is per user already.

// setAutostart writes the Run value that starts exe at login (on) or deletes
// it (off). Deleting an absent value is not an error.
func setAutostart(_ func(string) string, exe string, on bool) error {
	if !on {
		k, err := registry.OpenKey(registry.CURRENT_USER, runKeyPath, registry.SET_VALUE)
		if errors.Is(err, registry.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("open the Run key: %w", err)
		}
		defer k.Close()
		if err := k.DeleteValue(runValueName); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("remove the Run value: %w", err)
		}
		return nil
	}
	value, err := runValue(exe)
	if err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKeyPath, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("open the Run key: %w", err)
	}
	defer k.Close()
	if err := k.SetStringValue(runValueName, value); err != nil {
		return fmt.Errorf("write the Run value: %w", err)
	}
	return nil
}

// autostartOn reports whether the Run value exists.
func autostartOn(func(string) string) bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKeyPath, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	_, _, err = k.GetStringValue(runValueName)
	return err == nil
}
