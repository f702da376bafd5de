package main

import (
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

// watcherName and watcherPath are where a desktop's StatusNotifierWatcher
// lives on the session bus (the KDE/freedesktop StatusNotifierItem spec).
const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = dbus.ObjectPath("/StatusNotifierWatcher")
	watcherIface = "org.kde.StatusNotifierWatcher"
)

// watcher is a StatusNotifierWatcher that shows nothing: it takes the tray
// app's registration, so the app believes a tray hosts its icon and keeps
// its window hidden. Xvfb has no tray host of its own; with this one the
// "tray only" idle cost can be measured there.
type watcher struct {
	mu    sync.Mutex
	items []string
	props *prop.Properties
}

// RegisterStatusNotifierItem records an item, as a real watcher does.
func (w *watcher) RegisterStatusNotifierItem(service string, sender dbus.Sender) *dbus.Error {
	w.mu.Lock()
	w.items = append(w.items, string(sender)+service)
	items := append([]string(nil), w.items...)
	w.mu.Unlock()
	w.props.SetMust(watcherIface, "RegisteredStatusNotifierItems", items)
	return nil
}

// RegisterStatusNotifierHost accepts a host and ignores it.
func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

// serveTrayHost owns the watcher's name on the session bus until the
// returned func is called.
func serveTrayHost() (stop func(), err error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("tray host: session bus: %w", err)
	}
	w := &watcher{}
	if err := conn.Export(w, watcherPath, watcherIface); err != nil {
		conn.Close()
		return nil, fmt.Errorf("tray host: export: %w", err)
	}
	w.props, err = prop.Export(conn, watcherPath, prop.Map{watcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
	}})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("tray host: properties: %w", err)
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("tray host: request name: %w", err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("tray host: %s already has an owner", watcherName)
	}
	return func() { conn.Close() }, nil
}
