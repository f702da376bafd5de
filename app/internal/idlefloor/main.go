// Command idlefloor is the smallest Fyne program shaped like the tray app:
// one window titled "tokentray" with a label, shown when the desktop has no
// tray, else hidden behind a tray item with a one-entry menu. It does
// nothing else. scripts/idle-cost measures it beside the real app, in the
// same session and under the same load: what it costs is Fyne's own idle
// cost (its event loop wakes 60 times a second, tray or window), the floor
// under any Fyne app.
package main

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/app"
)

func main() {
	a := fyneapp.NewWithID("io.github.tokentray.idlefloor")
	w := a.NewWindow("tokentray")
	w.SetContent(widget.NewLabel("idle floor"))
	if app.TrayHostPresent() {
		a.(desktop.App).SetSystemTrayMenu(fyne.NewMenu("idlefloor", fyne.NewMenuItem("Quit", a.Quit)))
	} else {
		w.Show()
	}
	a.Run()
}
