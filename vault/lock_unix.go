//go:build unix

package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// pidLock is an flock(2) on vault.lock, which holds the owner's pid. The kernel drops the
// lock when the process dies, so a stale file never blocks a new owner.
type pidLock struct {
	f *os.File
}

// acquireLock takes the lock in dir or returns *AlreadyRunningError.
func acquireLock(dir string) (*pidLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: open lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &AlreadyRunningError{PID: readPID(path)}
		}
		return nil, fmt.Errorf("vault: lock: %w", err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: lock: %w", err)
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: lock: %w", err)
	}
	return &pidLock{f: f}, nil
}

// release empties the pid file and drops the lock. The file stays: removing it would let
// a process that opened the old file and a process that creates a new one both "own" it.
func (l *pidLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Truncate(0)
	if cerr := l.f.Close(); err == nil {
		err = cerr // closing the last descriptor drops the flock
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("vault: release lock: %w", err)
	}
	return nil
}
