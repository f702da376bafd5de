package safesocket

import (
	"bytes"
	"errors"
)

// parseProcArgs2 returns the executable path from the answer of macOS's
// sysctl {CTL_KERN, KERN_PROCARGS2, pid}: a 32-bit argc in the machine's
// (little-endian) order, then the path the process was executed from,
// NUL-terminated, then NUL padding, argv and the environment. Only the path
// is read, and only an absolute one is returned. It lives in a file without
// a build tag so it is tested everywhere.
//
// Unlike Linux's /proc/PID/exe, this text lies in the process's own memory,
// so a process of the same user could rewrite it: it identifies programs
// for the activity log and approvals, and is no proof against that user.
func parseProcArgs2(b []byte) (string, error) {
	if len(b) < 4 {
		return "", errors.New("procargs2: too short for argc")
	}
	rest := b[4:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return "", errors.New("procargs2: executable path not terminated")
	}
	if end == 0 {
		return "", errors.New("procargs2: empty executable path")
	}
	if rest[0] != '/' {
		// A relative path names different programs from different folders.
		return "", errors.New("procargs2: executable path is not absolute")
	}
	return string(rest[:end]), nil
}
