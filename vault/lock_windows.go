package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/windows"
)

// pidLock is a LockFileEx lock on vault.lock, which holds the owner's pid.
// Windows drops the lock when the process dies, so a stale file never blocks
// a new owner. Windows locks are mandatory, so the lock covers one byte far
// past the pid (lockOffsetHigh): another process can still read who holds it.
type pidLock struct {
	f *os.File
}

// lockOffsetHigh is the high 32 bits of the locked byte's offset (2^40):
// far beyond any pid text.
const lockOffsetHigh = 1 << 8

// acquireLock takes the lock in dir or returns *AlreadyRunningError.
func acquireLock(dir string) (*pidLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: open lock: %w", err)
	}
	ol := &windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
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

// release empties the pid file and drops the lock. The file stays, as on Unix.
func (l *pidLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Truncate(0)
	if cerr := l.f.Close(); err == nil {
		err = cerr // closing the handle drops the lock
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("vault: release lock: %w", err)
	}
	return nil
}
