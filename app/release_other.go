//go:build !linux || !cgo

package app

import "runtime/debug"

// releaseMemory gives Go's freed heap back to the system.
func releaseMemory() { debug.FreeOSMemory() }
