//go:build !windows

package vault

import (
	"fmt"
	"os"
)

// syncDir fsyncs a folder so a rename in it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync folder: %w", err)
	}
	return nil
}
