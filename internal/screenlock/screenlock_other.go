//go:build !linux

package screenlock

import "context"

// Watcher watches nothing on this system.
type Watcher struct{}

// Start answers ErrUnsupported: the screen lock is watched on Linux only.
func Start(ctx context.Context, cfg Config, onLock func(Lock)) (*Watcher, error) {
	return nil, ErrUnsupported
}

// Sources returns nothing.
func (w *Watcher) Sources() []string { return nil }

// Close does nothing.
func (w *Watcher) Close() {}
