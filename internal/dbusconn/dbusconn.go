// Package dbusconn finds the D-Bus session and system buses without ever
// starting one, and connects to them with a deadline. godbus's SessionBus
// would autolaunch a dbus-daemon when it finds none (vault/keyring_linux.go
// says why that must not happen), and its Connect cannot be cancelled.
package dbusconn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

// ErrNoAnswer is the error Connect wraps when the bus did not answer in
// time or ctx ended first.
var ErrNoAnswer = errors.New("no answer")

// SessionAddress is DBUS_SESSION_BUS_ADDRESS, else the per-user bus in
// /run/user/UID. It never autolaunches a bus.
func SessionAddress(getenv func(string) string) (string, error) {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a, nil
	}
	p := filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("no session bus: DBUS_SESSION_BUS_ADDRESS is unset and " + p + " does not exist")
	}
	return "unix:path=" + p, nil
}

// SystemAddress is DBUS_SYSTEM_BUS_ADDRESS, else the system bus's socket.
func SystemAddress(getenv func(string) string) (string, error) {
	if a := getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
		return a, nil
	}
	for _, p := range []string{"/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket"} {
		if _, err := os.Stat(p); err == nil {
			return "unix:path=" + p, nil
		}
	}
	return "", errors.New("no system bus: DBUS_SYSTEM_BUS_ADDRESS is unset and /run/dbus/system_bus_socket does not exist")
}

// Connect connects to the bus at addr, giving up after timeout or when ctx
// ends, with an error that wraps ErrNoAnswer. godbus's Connect cannot be
// cancelled: one that answers late is closed.
func Connect(ctx context.Context, addr string, timeout time.Duration) (*dbus.Conn, error) {
	type result struct {
		c   *dbus.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := dbus.Connect(addr)
		done <- result{c, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("connect to %s: %w", addr, r.err)
		}
		return r.c, nil
	case <-t.C:
	case <-ctx.Done():
	}
	go func() {
		if r := <-done; r.c != nil {
			r.c.Close()
		}
	}()
	return nil, fmt.Errorf("connect to %s: %w within %s", addr, ErrNoAnswer, timeout)
}
