package vault

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenFolderIsRefusedNotChmodded: a vault folder that exists and that
// others can write in (a shared sticky folder like /tmp, a group-writable
// one, or such a folder behind a symlink) is refused with a message, and its
// mode stays as it was; one others can only read is used as it is; a
// missing folder is created 0700.
func TestOpenFolderIsRefusedNotChmodded(t *testing.T) {
	tests := []struct {
		name    string
		mode    os.FileMode // chmod argument; os.ModeSticky for 1777
		symlink bool
	}{
		{"sticky shared 1777", 0o777 | os.ModeSticky, false},
		{"world writable 0777", 0o777, false},
		{"group writable 0770", 0o770, false},
		{"symlink to a sticky 1777 folder", 0o777 | os.ModeSticky, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "shared")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tt.mode); err != nil {
				t.Fatal(err)
			}
			before, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			home := dir
			if tt.symlink {
				home = filepath.Join(t.TempDir(), "link")
				if err := os.Symlink(dir, home); err != nil {
					t.Fatal(err)
				}
			}
			v, err := Open(context.Background(), Options{Dir: home, Keyring: newMemKeyring()})
			if err == nil {
				v.Close()
				t.Fatalf("Open(%s folder) = nil error, want a refusal", tt.name)
			}
			if msg := err.Error(); !strings.Contains(msg, "open to others") || !strings.Contains(msg, "never changes an existing folder's mode") {
				t.Errorf("Open(%s folder) = %q, want it to say the folder is open to others and is left as it is", tt.name, msg)
			}
			after, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if after.Mode() != before.Mode() {
				t.Errorf("folder mode %v after Open, want it unchanged at %v", after.Mode(), before.Mode())
			}
			if got := dirFiles(t, dir); len(got) != 0 {
				t.Errorf("refused folder holds %v, want nothing written", got)
			}
		})
	}
	t.Run("readable by others is used and left 0755", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "home")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		v, err := Open(context.Background(), Options{Dir: dir, Keyring: newMemKeyring()})
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
		if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
			t.Errorf("folder mode %v after Open, want it left at 0755", fi.Mode().Perm())
		}
	})
	t.Run("missing folder is created 0700", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new", "home")
		v, err := Open(context.Background(), Options{Dir: dir, Keyring: newMemKeyring()})
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("new folder mode %v, want 0700", fi.Mode().Perm())
		}
	})
}
