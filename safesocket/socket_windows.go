package safesocket

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// ensurePrivateDir creates dir owned by this user with a protected DACL that
// grants only this user (folderSDDL), or checks that an existing one is a
// folder owned by this user that grants nobody else anything (but the
// system and the administrators, see checkFolderSDDL). An existing folder is
// never changed: one open to others is refused with a message.
func ensurePrivateDir(dir string) error {
	owner, err := currentUser()
	if err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := createPrivateDir(dir, owner.SID); err != nil {
			return err
		}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("check socket folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket folder %s is not a folder", dir)
	}
	sd, err := windows.GetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("check socket folder %s: %w", dir, err)
	}
	if err := checkFolderSDDL(sd.String(), owner.SID); err != nil {
		return fmt.Errorf("socket folder %s %w; remove it so tokentray makes it anew, or set TOKENTRAY_SOCK", dir, err)
	}
	return nil
}

// createPrivateDir makes dir (its parents as usual) with folderSDDL(sid) as
// its security descriptor, set at creation so it is never open, not even for
// a moment. A folder that appeared meanwhile is left to the caller's check.
func createPrivateDir(dir, sid string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("create socket folder: %w", err)
	}
	sddl, err := folderSDDL(sid)
	if err != nil {
		return fmt.Errorf("create socket folder: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("create socket folder: security descriptor: %w", err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return fmt.Errorf("create socket folder: %w", err)
	}
	if err := windows.CreateDirectory(p, sa); err != nil && !errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return fmt.Errorf("create socket folder %s: %w", dir, err)
	}
	return nil
}

// restrictSocket has nothing to do on Windows: the socket inherits the
// folder's DACL, which grants only the user.
func restrictSocket(string) error { return nil }

// currentUser is who may connect: the user SID of this process's token.
func currentUser() (Peer, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return Peer{}, fmt.Errorf("read this process's user: %w", err)
	}
	sid := tu.User.Sid.String()
	if sid == "" {
		return Peer{}, errors.New("read this process's user: empty SID")
	}
	return Peer{PID: os.Getpid(), UID: -1, SID: sid}, nil
}

// isConnRefused reports whether a dial failed because nobody listens.
func isConnRefused(err error) bool {
	return errors.Is(err, windows.WSAECONNREFUSED)
}
