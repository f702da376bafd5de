// Command sniwatch is a StatusNotifierWatcher for tests: it owns
// org.kde.StatusNotifierWatcher on the session bus, as a desktop's tray
// does, and prints one line per item that registers:
//
//	registered PID SERVICE PATH
//
// PID is the registering process (from the bus), so a script can tell which
// launch registered. It draws nothing; scripts/tray-smoke reads its output.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// The watcher's well-known name, path and interface (the StatusNotifierItem
// spec, as KDE and libayatana publish it).
const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	watcherIface = "org.kde.StatusNotifierWatcher"
)

type watcher struct {
	conn  *dbus.Conn
	props *prop.Properties

	mu    sync.Mutex // guards items
	items []string
}

// RegisterStatusNotifierItem records an item. service is a bus name or,
// as Fyne's systray sends it, an object path on the sender's connection.
func (w *watcher) RegisterStatusNotifierItem(service string, sender dbus.Sender) *dbus.Error {
	var pid uint32
	if err := w.conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, string(sender)).Store(&pid); err != nil {
		fmt.Fprintf(os.Stderr, "sniwatch: pid of %s: %v\n", sender, err)
	}
	item := service
	if strings.HasPrefix(service, "/") {
		item = string(sender) + service
	}
	w.mu.Lock()
	w.items = append(w.items, item)
	items := append([]string(nil), w.items...)
	w.mu.Unlock()
	w.props.SetMust(watcherIface, "RegisteredStatusNotifierItems", items)
	if err := w.conn.Emit(watcherPath, watcherIface+".StatusNotifierItemRegistered", item); err != nil {
		fmt.Fprintf(os.Stderr, "sniwatch: emit: %v\n", err)
	}
	fmt.Printf("registered %d %s %s\n", pid, sender, service)
	return nil
}

// RegisterStatusNotifierHost accepts a host and ignores it.
func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "sniwatch: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("session bus: %w", err)
	}
	defer conn.Close()
	w := &watcher{conn: conn}
	if err := conn.Export(w, watcherPath, watcherIface); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	w.props, err = prop.Export(conn, watcherPath, prop.Map{watcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		return fmt.Errorf("properties: %w", err)
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil {
		return fmt.Errorf("request name: %w", err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("%s already has an owner", watcherName)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}
