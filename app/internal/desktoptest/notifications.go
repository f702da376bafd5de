package desktoptest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// The notification service's well-known name, path and interface (the
// Desktop Notifications Specification).
const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifyIface = "org.freedesktop.Notifications"
)

// Notification is one Notify call the stand-in received.
type Notification struct {
	App     string // app_name: Fyne sends the app's id
	Summary string // the title
	Body    string
}

func (n Notification) String() string { return fmt.Sprintf("%q: %q", n.Summary, n.Body) }

// Notifications is a stand-in for the desktop's notification service: it
// owns org.freedesktop.Notifications on a bus and records every Notify.
type Notifications struct {
	conn *dbus.Conn

	mu   sync.Mutex // guards got and more
	got  []Notification
	more chan struct{} // closed and replaced at each Notify
}

// service is the exported D-Bus object; its methods are the interface.
type service struct{ n *Notifications }

// Notify records a notification and returns its id.
func (s service) Notify(app string, _ uint32, _, summary, body string, _ []string, _ map[string]dbus.Variant, _ int32) (uint32, *dbus.Error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, Notification{App: app, Summary: summary, Body: body})
	close(n.more)
	n.more = make(chan struct{})
	return uint32(len(n.got)), nil
}

// GetCapabilities says the stand-in shows a body.
func (service) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

// GetServerInformation names the stand-in.
func (service) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "desktoptest", "tokentray", "1", "1.2", nil
}

// CloseNotification accepts and ignores a close.
func (service) CloseNotification(uint32) *dbus.Error { return nil }

// StartNotifications owns the notification service's name on the bus at
// addr until the test ends.
func StartNotifications(t testing.TB, addr string) *Notifications {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to the session bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &Notifications{conn: conn, more: make(chan struct{})}
	if err := conn.Export(service{n}, notifyPath, notifyIface); err != nil {
		t.Fatalf("export the notification service: %v", err)
	}
	reply, err := conn.RequestName(notifyName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: reply %v, %v", notifyName, reply, err)
	}
	return n
}

// All returns the notifications received so far, in order.
func (n *Notifications) All() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Notification(nil), n.got...)
}

// WaitFor waits up to timeout until ok holds for the notifications received
// so far, and returns them; it fails the test when time runs out.
func (n *Notifications) WaitFor(t testing.TB, what string, timeout time.Duration, ok func([]Notification) bool) []Notification {
	t.Helper()
	deadline := time.After(timeout)
	for {
		n.mu.Lock()
		got, more := append([]Notification(nil), n.got...), n.more
		n.mu.Unlock()
		if ok(got) {
			return got
		}
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no %s within %v; the notifications were %v", what, timeout, got)
		}
	}
}
