package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names inside Options.Dir.
const (
	vaultFile  = "vault"
	lockFile   = "vault.lock"
	tempPrefix = ".vault.tmp-"
)

// ensureDir creates a missing dir 0700, or checks that an existing one (or
// the folder a symlink leads to) belongs to this user and that nobody else
// can write in it. An existing folder's mode is never changed (docs/config.md): one
// open to others may be shared, like /tmp, and closing it would break
// whoever shares it.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault: create folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("vault: folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("vault: %s is not a folder", dir)
	}
	uid, ok := ownerOf(fi)
	if !ok {
		return nil // no uid and mode bits here (Windows): the folder's ACL decides
	}
	if uid != os.Getuid() {
		return fmt.Errorf("vault: folder %s belongs to uid %d, not to you (uid %d); set TOKENTRAY_HOME to a folder of your own", dir, uid, os.Getuid())
	}
	// Writable by others: they could plant, swap or remove files beside the
	// vault (config.toml, the lock). Read access only lists names: the
	// files themselves are 0600.
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("vault: folder %s is open to others (mode %s); tokentray never changes an existing folder's mode: set TOKENTRAY_HOME to a folder of your own (a missing one is created 0700), or close this one yourself if nobody else uses it",
			dir, modeString(fi.Mode()))
	}
	return nil
}

// modeString is a folder's permission bits in octal, sticky bit included.
func modeString(m fs.FileMode) string {
	bits := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	return fmt.Sprintf("%04o", bits)
}

// writeAtomic replaces dir/name with data so that a crash at any instant leaves either the
// old or the new file: temp file in the same folder (0600), write, fsync, rename, fsync
// the folder.
func writeAtomic(dir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync temp file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename temp file: %w", err)
	}
	return syncDir(dir)
}

// keepAside renames dir/name to name.corrupt-<UTC timestamp> (never over an existing file)
// and returns the new path.
func keepAside(dir, name string, now time.Time) (string, error) {
	base := filepath.Join(dir, name+".corrupt-"+now.UTC().Format("20060102T150405Z"))
	dst := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
	// Link then unlink instead of rename: a rename would replace a file created between
	// the check and the call; a link fails on it.
	// (Folders without hard links fall back to rename; the caller holds the lock.)
	src := filepath.Join(dir, name)
	if err := os.Link(src, dst); err != nil {
		if err := os.Rename(src, dst); err != nil {
			return "", fmt.Errorf("keep corrupt vault aside: %w", err)
		}
	} else if err := os.Remove(src); err != nil {
		return "", fmt.Errorf("keep corrupt vault aside: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return "", err
	}
	return dst, nil
}

// removeStaleTemps deletes temp files left by a writer that died mid-save. The caller
// holds the lock, so no live writer owns them.
func removeStaleTemps(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read folder: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove stale temp file: %w", err)
			}
		}
	}
	return nil
}
