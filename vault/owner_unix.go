//go:build unix

package vault

import (
	"io/fs"
	"syscall"
)

// ownerOf returns the uid that owns fi's file, and whether it is known.
func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
