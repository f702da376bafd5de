//go:build linux

package screenlock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	dbus "github.com/godbus/dbus/v5"

	"github.com/tokentray/tokentray/internal/dbusconn"
)

// screenSavers are the screen savers' D-Bus interfaces; each emits
// ActiveChanged(bool) on the session bus, true when the screen locks.
var screenSavers = []string{
	"org.freedesktop.ScreenSaver", // KDE, and the name others also claim
	"org.gnome.ScreenSaver",
	"org.mate.ScreenSaver",
	"org.cinnamon.ScreenSaver",
	"org.xfce.ScreenSaver",
}

// logind's names.
const (
	login1        = "org.freedesktop.login1"
	login1Path    = "/org/freedesktop/login1"
	login1Manager = "org.freedesktop.login1.Manager"
	login1Session = "org.freedesktop.login1.Session"
	propsIface    = "org.freedesktop.DBus.Properties"
)

// Watcher watches the buses Start could reach until its context ends or
// Close.
type Watcher struct {
	cfg     Config
	onLock  func(Lock)
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	conns   []*dbus.Conn
	sources []string
	session dbus.ObjectPath // this process's logind session; "" when the system bus is not watched

	mu   sync.Mutex // guards last; held while onLock runs, so calls never overlap
	last time.Time
}

// Start watches the session and the system bus for the screen locking and
// calls onLock for each lock (several signals within cfg.Quiet count as
// one) until ctx ends or Close. Calls never overlap; onLock must not call
// Close. Start returns once the watches are in place, so a lock after it
// returns is seen. It fails only when neither bus can be watched; a bus
// that cannot is logged.
func Start(ctx context.Context, cfg Config, onLock func(Lock)) (*Watcher, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Quiet == 0 {
		cfg.Quiet = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Watcher{cfg: cfg, onLock: onLock}
	var errs []error
	if err := w.watchScreenSavers(ctx); err != nil {
		errs = append(errs, fmt.Errorf("session bus: %w", err))
	}
	if err := w.watchLogind(ctx); err != nil {
		errs = append(errs, fmt.Errorf("system bus: %w", err))
	}
	if len(w.conns) == 0 {
		return nil, fmt.Errorf("watch the screen lock: %w", errors.Join(errs...))
	}
	for _, err := range errs {
		cfg.Logger.Info("screen lock: a bus is not watched", "err", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	for _, c := range w.conns {
		ch := make(chan *dbus.Signal, 16)
		c.Signal(ch)
		w.wg.Add(1)
		go w.receive(ch)
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		<-runCtx.Done()
		for _, c := range w.conns {
			c.Close() // ends receive: godbus closes its signal channel
		}
	}()
	return w, nil
}

// Sources names what is watched, for the log.
func (w *Watcher) Sources() []string { return w.sources }

// Close stops watching and waits for the watcher's goroutines.
func (w *Watcher) Close() {
	w.cancel()
	w.wg.Wait()
}

// receive reports the locks among the signals on ch until it closes.
func (w *Watcher) receive(ch <-chan *dbus.Signal) {
	defer w.wg.Done()
	for sig := range ch {
		if src := w.lockSource(sig); src != "" {
			w.fire(src)
		}
	}
}

// fire calls onLock unless the previous lock was within Quiet.
func (w *Watcher) fire(src string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if quiet(w.last, now, w.cfg.Quiet) {
		return
	}
	w.last = now
	w.onLock(Lock{Source: src})
}

// lockSource names the lock sig reports, or "" when it reports none.
func (w *Watcher) lockSource(sig *dbus.Signal) string {
	for _, iface := range screenSavers {
		if sig.Name == iface+".ActiveChanged" {
			if len(sig.Body) == 1 && sig.Body[0] == true {
				return iface
			}
			return ""
		}
	}
	if w.session == "" || sig.Path != w.session {
		return ""
	}
	switch sig.Name {
	case login1Session + ".Lock":
		return "login1"
	case propsIface + ".PropertiesChanged":
		if len(sig.Body) < 2 || sig.Body[0] != login1Session {
			return ""
		}
		changed, _ := sig.Body[1].(map[string]dbus.Variant)
		if v, ok := changed["LockedHint"]; ok && v.Value() == true {
			return "login1"
		}
	}
	return ""
}

// watchScreenSavers subscribes to the screen savers' ActiveChanged on the
// session bus.
func (w *Watcher) watchScreenSavers(ctx context.Context) error {
	addr, err := dbusconn.SessionAddress(w.cfg.Getenv)
	if err != nil {
		return err
	}
	c, err := dbusconn.Connect(ctx, addr, w.cfg.Timeout)
	if err != nil {
		return err
	}
	for _, iface := range screenSavers {
		if err := w.addMatch(ctx, c, dbus.WithMatchInterface(iface), dbus.WithMatchMember("ActiveChanged")); err != nil {
			c.Close()
			return fmt.Errorf("subscribe to %s: %w", iface, err)
		}
	}
	w.conns = append(w.conns, c)
	w.sources = append(w.sources, "screen savers on the session bus")
	return nil
}

// watchLogind finds this process's logind session and subscribes to its
// Lock signal and its LockedHint.
func (w *Watcher) watchLogind(ctx context.Context) error {
	addr, err := dbusconn.SystemAddress(w.cfg.Getenv)
	if err != nil {
		return err
	}
	c, err := dbusconn.Connect(ctx, addr, w.cfg.Timeout)
	if err != nil {
		return err
	}
	session, err := w.findSession(ctx, c)
	if err != nil {
		c.Close()
		return err
	}
	opts := [][]dbus.MatchOption{
		{dbus.WithMatchSender(login1), dbus.WithMatchObjectPath(session), dbus.WithMatchInterface(login1Session), dbus.WithMatchMember("Lock")},
		{dbus.WithMatchSender(login1), dbus.WithMatchObjectPath(session), dbus.WithMatchInterface(propsIface), dbus.WithMatchMember("PropertiesChanged"), dbus.WithMatchArg(0, login1Session)},
	}
	for _, o := range opts {
		if err := w.addMatch(ctx, c, o...); err != nil {
			c.Close()
			return fmt.Errorf("subscribe to logind's session %s: %w", session, err)
		}
	}
	w.session = session
	w.conns = append(w.conns, c)
	w.sources = append(w.sources, "logind session "+string(session))
	return nil
}

// findSession asks logind for this process's session: the one
// XDG_SESSION_ID names, else the one this process runs in, else logind's
// pick for the user ("auto": the user's graphical session).
func (w *Watcher) findSession(ctx context.Context, c *dbus.Conn) (dbus.ObjectPath, error) {
	obj := c.Object(login1, login1Path)
	call := func(method string, arg any) (dbus.ObjectPath, error) {
		cctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
		defer cancel()
		var p dbus.ObjectPath
		err := obj.CallWithContext(cctx, login1Manager+"."+method, 0, arg).Store(&p)
		return p, err
	}
	if id := w.cfg.Getenv("XDG_SESSION_ID"); id != "" {
		p, err := call("GetSession", id)
		if err != nil {
			return "", fmt.Errorf("logind's session %q: %w", id, err)
		}
		return p, nil
	}
	p, err := call("GetSessionByPID", uint32(os.Getpid()))
	if err == nil {
		return p, nil
	}
	var de dbus.Error
	if errors.As(err, &de) && de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" {
		return "", errors.New("logind is not running")
	}
	p, err2 := call("GetSession", "auto")
	if err2 != nil {
		return "", fmt.Errorf("logind knows no session of this process: %w", errors.Join(err, err2))
	}
	return p, nil
}

func (w *Watcher) addMatch(ctx context.Context, c *dbus.Conn, opts ...dbus.MatchOption) error {
	cctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	return c.AddMatchSignalContext(cctx, opts...)
}
