package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tokentray/tokentray/localclient"
)

// fakeHost stands in for WatchTrayHost: the test says when a tray host
// appears or goes away.
type fakeHost struct {
	present bool
	changed func(bool)
}

func (h *fakeHost) watch(_ context.Context, changed func(bool)) bool {
	h.changed = changed
	return h.present
}

// TestTrayHostComesAndGoes: with no tray host at start the window shows and
// closing it quits; once a host appears closing hides it; when the host goes
// away while it is hidden, the window comes back.
func TestTrayHostComesAndGoes(t *testing.T) {
	a := test.NewTempApp(t)
	cfg := t.TempDir()
	q := make(fyneThread, 256)
	host := &fakeHost{}
	// No agent answers: the window shows that, which is not what is tested.
	c := localclient.NewClient(filepath.Join(t.TempDir(), "none.sock"))
	u := newUI(a, c, Options{
		Getenv:     func(k string) string { return map[string]string{"XDG_CONFIG_HOME": cfg, "HOME": cfg}[k] },
		Executable: "/usr/bin/tokentray",
		Logger:     slog.New(slog.DiscardHandler),
		TrayHost:   host.watch,
	})
	u.do = q.do
	fakeTimers(u)
	quits := 0
	u.quit = func() { quits++ }
	t.Cleanup(func() {
		u.stop()
		if u.win.visible {
			u.win.hide()
		}
	})
	if u.tray == nil || host.changed == nil {
		t.Fatalf("tray %v, watching %v: want the tray menu set and the host watched even with no host", u.tray != nil, host.changed != nil)
	}
	u.start()
	if !u.win.visible {
		t.Fatal("with no tray host the window is hidden at start: nothing would reach tokentray")
	}
	u.win.onClose()
	if quits != 1 {
		t.Fatalf("closing the window with no tray host: %d quits, want 1", quits)
	}

	host.changed(true)
	q.until(t, "tray mode", u.trayMode)
	if !u.win.visible {
		t.Fatal("a tray host appearing hid the window")
	}
	u.win.onClose()
	if u.win.visible || quits != 1 {
		t.Fatalf("closing with a tray host: visible %v, %d quits; want hidden and running", u.win.visible, quits)
	}

	host.changed(false)
	q.until(t, "the window shown again", func() bool { return u.win.visible })
	if u.trayMode() {
		t.Fatal("still in tray mode after the host went away")
	}
	u.win.onClose()
	if quits != 2 {
		t.Fatalf("closing the window after the host went away: %d quits, want 2", quits)
	}

	// The host coming and going while the window shows leaves it as it is.
	host.changed(true)
	q.until(t, "tray mode again", u.trayMode)
	host.changed(false)
	q.until(t, "no tray mode", func() bool { return !u.trayMode() })
	if !u.win.visible {
		t.Fatal("the window hid when the host went away")
	}
}
