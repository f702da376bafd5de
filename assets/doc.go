// Package assets holds the icons of tokentray, embedded in the binary.
package assets
