// Package assets holds the icons of tokentray, embedded in the binary: the
// app icon and one tray icon per overall state. The PNGs are drawn by
// ./gen (`go generate ./assets`) and committed.
package assets
