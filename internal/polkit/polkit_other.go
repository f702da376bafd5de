//go:build !linux

package polkit

import (
	"context"
	"fmt"
)

// Confirm answers ErrUnavailable: polkit runs on Linux only.
func (a *Authority) Confirm(ctx context.Context, what string) error {
	return fmt.Errorf("%w: polkit runs on Linux only", ErrUnavailable)
}

// Available reports false: polkit runs on Linux only.
func (a *Authority) Available(ctx context.Context) (bool, string) {
	return false, "polkit runs on Linux only"
}
