//go:build linux

package screenlock

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"

	"github.com/tokentray/tokentray/internal/dbustest"
)

// fakeLogind stands in for logind on a test bus: it owns
// org.freedesktop.login1 and answers the session look-ups.
type fakeLogind struct {
	conn  *dbus.Conn
	mu    sync.Mutex
	calls []string
}

func startLogind(t *testing.T, addr string) *fakeLogind {
	t.Helper()
	l := &fakeLogind{conn: dbustest.Connect(t, addr)}
	err := l.conn.ExportMethodTable(map[string]any{
		"GetSessionByPID": func(pid uint32) (dbus.ObjectPath, *dbus.Error) {
			l.record("GetSessionByPID")
			return "/org/freedesktop/login1/session/_31", nil
		},
		"GetSession": func(id string) (dbus.ObjectPath, *dbus.Error) {
			l.record("GetSession " + id)
			return dbus.ObjectPath("/org/freedesktop/login1/session/" + id), nil
		},
	}, login1Path, login1Manager)
	if err != nil {
		t.Fatal(err)
	}
	dbustest.Own(t, l.conn, login1)
	return l
}

func (l *fakeLogind) record(call string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, call)
}

// watch starts a watcher on addr (as both buses) with env added, and
// returns the channel its locks arrive on.
func watch(t *testing.T, addr string, env map[string]string) (*Watcher, <-chan Lock) {
	t.Helper()
	getenv := func(k string) string {
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "DBUS_SYSTEM_BUS_ADDRESS":
			return addr
		}
		return env[k]
	}
	locks := make(chan Lock, 16)
	w, err := Start(context.Background(), Config{Getenv: getenv, Quiet: -1, Logger: slog.New(slog.DiscardHandler)}, func(l Lock) { locks <- l })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w, locks
}

// next returns the next lock, failing after 10 s.
func next(t *testing.T, locks <-chan Lock) Lock {
	t.Helper()
	select {
	case l := <-locks:
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no lock reported within 10 s")
		return Lock{}
	}
}

// emit sends a signal from c and waits until the bus has taken it: a
// round trip on c after it, so a signal emitted next from another
// connection reaches the watcher after this one.
func emit(t *testing.T, c *dbus.Conn, path dbus.ObjectPath, name string, body ...any) {
	t.Helper()
	if err := c.Emit(path, name, body...); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := c.BusObject().Call("org.freedesktop.DBus.GetId", 0).Store(&id); err != nil {
		t.Fatal(err)
	}
}

// TestScreenSaverActiveChanged: a screen saver's ActiveChanged(true) on
// the session bus is a lock, named by its interface; ActiveChanged(false)
// is not.
func TestScreenSaverActiveChanged(t *testing.T) {
	addr := dbustest.Start(t)
	w, locks := watch(t, addr, nil)
	if got := strings.Join(w.Sources(), "; "); !strings.Contains(got, "screen savers") {
		t.Fatalf("Sources() = %q, want the screen savers (no logind on this bus)", got)
	}
	saver := dbustest.Connect(t, addr)
	emit(t, saver, "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", false)
	emit(t, saver, "/org/gnome/ScreenSaver", "org.gnome.ScreenSaver.ActiveChanged", true)
	if l := next(t, locks); l.Source != "org.gnome.ScreenSaver" {
		t.Fatalf("first lock = %+v, want org.gnome.ScreenSaver's (ActiveChanged(false) is no lock)", l)
	}
	emit(t, saver, "/ScreenSaver", "org.freedesktop.ScreenSaver.ActiveChanged", true)
	if l := next(t, locks); l.Source != "org.freedesktop.ScreenSaver" {
		t.Fatalf("second lock = %+v, want org.freedesktop.ScreenSaver's", l)
	}
}

// TestLogindLock: logind's Lock and LockedHint of this process's session
// are locks; another session's Lock, LockedHint false and a Lock from a
// program that is not logind are not.
func TestLogindLock(t *testing.T) {
	addr := dbustest.Start(t)
	logind := startLogind(t, addr)
	w, locks := watch(t, addr, nil)
	ours := dbus.ObjectPath("/org/freedesktop/login1/session/_31")
	if got := strings.Join(w.Sources(), "; "); !strings.Contains(got, string(ours)) {
		t.Fatalf("Sources() = %q, want logind session %s", got, ours)
	}
	other := dbustest.Connect(t, addr)
	emit(t, other, ours, login1Session+".Lock")
	emit(t, logind.conn, "/org/freedesktop/login1/session/c9", login1Session+".Lock")
	emit(t, logind.conn, ours, propsIface+".PropertiesChanged", login1Session, map[string]dbus.Variant{"LockedHint": dbus.MakeVariant(false)}, []string{})
	emit(t, logind.conn, ours, login1Session+".Lock")
	if l := next(t, locks); l.Source != "login1" {
		t.Fatalf("first lock = %+v, want login1's (the others are no lock of ours)", l)
	}
	emit(t, logind.conn, ours, propsIface+".PropertiesChanged", login1Session, map[string]dbus.Variant{"LockedHint": dbus.MakeVariant(true)}, []string{})
	if l := next(t, locks); l.Source != "login1" {
		t.Fatalf("LockedHint true: %+v, want login1's lock", l)
	}
	select {
	case l := <-locks:
		t.Fatalf("an extra lock: %+v", l)
	default:
	}
}

// TestLogindSessionFromEnvironment: XDG_SESSION_ID names the session.
func TestLogindSessionFromEnvironment(t *testing.T) {
	addr := dbustest.Start(t)
	logind := startLogind(t, addr)
	w, _ := watch(t, addr, map[string]string{"XDG_SESSION_ID": "c2"})
	logind.mu.Lock()
	calls := strings.Join(logind.calls, ", ")
	logind.mu.Unlock()
	if calls != "GetSession c2" {
		t.Fatalf("logind was asked %q, want GetSession c2", calls)
	}
	if got := strings.Join(w.Sources(), "; "); !strings.Contains(got, "/org/freedesktop/login1/session/c2") {
		t.Fatalf("Sources() = %q, want session c2", got)
	}
}

// TestNoBus: without a bus Start fails and says why for each; a bus that
// never answers costs Timeout, not a hang.
func TestNoBus(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, "silent"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and never speaks
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	getenv := func(k string) string {
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS":
			return "unix:path=" + filepath.Join(dir, "silent")
		case "DBUS_SYSTEM_BUS_ADDRESS":
			return "unix:path=" + filepath.Join(dir, "missing")
		}
		return ""
	}
	start := time.Now()
	_, err = Start(context.Background(), Config{Getenv: getenv, Timeout: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}, func(Lock) {})
	if err == nil || !strings.Contains(err.Error(), "session bus") || !strings.Contains(err.Error(), "system bus") || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("Start without buses: %v, want an error naming both buses and the silent one", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Start took %s with a 200ms timeout", d)
	}
}

func TestQuiet(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		last  time.Time
		now   time.Time
		quiet time.Duration
		want  bool
	}{
		{"first lock", time.Time{}, t0, 2 * time.Second, false},
		{"within quiet", t0, t0.Add(time.Second), 2 * time.Second, true},
		{"after quiet", t0, t0.Add(2 * time.Second), 2 * time.Second, false},
		{"no quiet", t0, t0, -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := quiet(c.last, c.now, c.quiet); got != c.want {
				t.Fatalf("quiet(%v, %v, %v) = %v, want %v", c.last, c.now, c.quiet, got, c.want)
			}
		})
	}
}
