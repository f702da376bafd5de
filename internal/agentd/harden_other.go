//go:build !linux

package agentd

// hardenProcess does nothing outside Linux: there memguard's locked memory
// is the only protection (and macOS writes no core files by default).
func hardenProcess() error { return nil }
