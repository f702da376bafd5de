// Command idlefloor is the smallest Fyne program shaped like the tray app:
// one window titled "tokentray" with a label, shown when the desktop has no
// tray, else hidden behind a tray item with a one-entry menu. It does
// nothing else. scripts/idle-cost measures it beside the real app, in the
// same session and under the same load: what it costs is Fyne's own idle
// cost, the floor under any Fyne app (Fyne's event loop, patched in
// third_party/fyne, blocks when there is nothing to do).
//
// With -probe it is the program the idle mode's test drives: the window
// always shows, holding one button; a click on it, or Space, sets the
// title to "pressed N"; each line read on standard input becomes the title
// through fyne.Do, from the goroutine that reads it; the end of the input
// quits.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/app"
)

func main() {
	probe := flag.Bool("probe", false, "show a button and take window titles from standard input (for the tests)")
	flag.Parse()
	a := fyneapp.NewWithID("io.github.tokentray.idlefloor")
	w := a.NewWindow("tokentray")
	switch {
	case *probe:
		startProbe(a, w)
		w.Show()
	case app.TrayHostPresent():
		w.SetContent(widget.NewLabel("idle floor"))
		a.(desktop.App).SetSystemTrayMenu(fyne.NewMenu("idlefloor", fyne.NewMenuItem("Quit", a.Quit)))
	default:
		w.SetContent(widget.NewLabel("idle floor"))
		w.Show()
	}
	a.Run()
}

// startProbe gives w the probe's button and starts reading titles from
// standard input.
func startProbe(a fyne.App, w fyne.Window) {
	presses := 0
	press := func() {
		presses++
		w.SetTitle(fmt.Sprintf("pressed %d", presses))
	}
	w.SetContent(widget.NewButton("press", press))
	w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeySpace {
			press()
		}
	})
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			title := in.Text()
			fyne.Do(func() { w.SetTitle(title) })
		}
		fyne.Do(a.Quit)
	}()
}
