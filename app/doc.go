// Package app is the Fyne tray app and window of tokentray. It reaches the
// agent only through the localapi client, so every button is a socket call.
package app
