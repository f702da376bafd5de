package vault

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

func TestClassifyKeyringError(t *testing.T) {
	tests := []struct {
		name string
		in   error
		want error
	}{
		{"nil", nil, nil},
		{"not found", errNotFound, ErrItemNotFound},
		{"service unknown", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, ErrNoSecretService},
		{"service unknown pointer", &dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown"}, ErrNoSecretService},
		{"activation failed", dbus.Error{Name: "org.freedesktop.DBus.Error.Spawn.ChildExited"}, ErrNoSecretService},
		{"is locked", dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, ErrKeyringLocked},
		{"prompt dismissed", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrKeyringLocked},
		{"no reply", dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}, ErrKeyringTimeout},
		{"no bus address", errors.New("dbus: couldn't determine address of session bus"), ErrNoSecretService},
		{"bus refused", &net.OpError{Op: "dial", Net: "unix", Err: errors.New("connection refused")}, ErrNoSecretService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyKeyringError(tt.in)
			if !errors.Is(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("classifyKeyringError(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	other := dbus.Error{Name: "org.example.Weird"}
	if got := classifyKeyringError(other); got == nil || errors.Is(got, ErrNoSecretService) || errors.Is(got, ErrKeyringLocked) {
		t.Errorf("classifyKeyringError(unknown) = %v, want a plain wrapped error", got)
	}
}

func TestWithTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	_, err := withTimeout(context.Background(), 20*time.Millisecond, func() (int, error) { <-release; return 1, nil })
	if !errors.Is(err, ErrKeyringTimeout) {
		t.Errorf("withTimeout(blocked) = %v, want ErrKeyringTimeout", err)
	}
	v, err := withTimeout(context.Background(), time.Second, func() (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Errorf("withTimeout(quick) = %d, %v, want 7, nil", v, err)
	}
}
