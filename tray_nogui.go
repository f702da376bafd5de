//go:build nogui

package main

import "github.com/tokentray/tokentray/internal/cli"

// tray is absent from a nogui build: `tokentray` without arguments says so.
var tray cli.TrayFunc
