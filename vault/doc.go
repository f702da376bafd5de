// Package vault keeps every secret of tokentray, in locked memory and, encrypted,
// on disk.
package vault
