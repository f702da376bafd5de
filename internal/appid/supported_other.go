//go:build !linux

package appid

// Supported reports whether this system can identify apps: not here, where
// every app is Unidentified and can only be allowed once.
const Supported = false
