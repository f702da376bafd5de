//go:build unix

package safesocket

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ensurePrivateDir creates dir with mode 0700, or checks that an existing one
// is a folder owned by this user that others cannot enter or write.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create socket folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check socket folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket folder %s is not a folder", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("socket folder %s belongs to uid %d, not to you (uid %d): put the socket in a folder of your own (a missing one is created 0700)", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return openFolderError(dir, fi.Mode())
	}
	return nil
}

// restrictSocket makes the socket 0600. The folder is already 0700, so
// nobody else can reach the socket in the moment between its creation and
// this chmod.
func restrictSocket(path string) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("restrict socket %s: %w", path, err)
	}
	return nil
}

// currentUser is who may connect: this process's uid.
func currentUser() (Peer, error) {
	return Peer{PID: os.Getpid(), UID: os.Getuid()}, nil
}

// isConnRefused reports whether a dial failed because nobody listens.
func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
