//go:build !unix && !windows

package vault

import "errors"

// pidLock is not implemented on this system yet.
type pidLock struct{}

// acquireLock reports that locking is not implemented here.
func acquireLock(dir string) (*pidLock, error) {
	return nil, errors.New("vault: the pid lock is not implemented on this system")
}

func (l *pidLock) release() error { return nil }
