//go:build !nogui

package main

import "github.com/tokentray/tokentray/internal/cli"

// tray runs the tray app. Until the Fyne app lands it is absent, as in a nogui build.
var tray cli.TrayFunc
