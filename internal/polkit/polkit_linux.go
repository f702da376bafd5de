//go:build linux

package polkit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	dbus "github.com/godbus/dbus/v5"

	"github.com/tokentray/tokentray/internal/dbusconn"
)

// polkit's names on the system bus.
const (
	busName    = "org.freedesktop.PolicyKit1"
	objectPath = "/org/freedesktop/PolicyKit1/Authority"
	authority  = "org.freedesktop.PolicyKit1.Authority"

	// allowUserInteraction lets polkit ask the user through its
	// authentication agent (CheckAuthorizationFlags).
	allowUserInteraction = 1
)

// subject is polkit's Subject (sa{sv}).
type subject struct {
	Kind    string
	Details map[string]dbus.Variant
}

// authorizationResult is polkit's AuthorizationResult (bba{ss}).
type authorizationResult struct {
	IsAuthorized bool
	IsChallenge  bool
	Details      map[string]string
}

// actionDescription is polkit's ActionDescription
// (ssssssuuua{ss}).
type actionDescription struct {
	ActionID         string
	Description      string
	Message          string
	VendorName       string
	VendorURL        string
	IconName         string
	ImplicitAny      uint32
	ImplicitInactive uint32
	ImplicitActive   uint32
	Annotations      map[string]string
}

// Confirm asks polkit whether this process may perform ActionID, letting
// it ask the user (their password or fingerprint, in polkit's dialog);
// what is shown there as $(what). It returns nil only when polkit says
// yes; otherwise ErrDismissed, ErrNoAgent, ErrNotAuthorized, ErrUnavailable
// or another error, each a sentence. A confirmation that takes longer than
// Timeout (or outlives ctx) is cancelled at polkit too.
func (a *Authority) Confirm(ctx context.Context, what string) error {
	st, err := startTime()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	conn, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	subj := subject{Kind: "unix-process", Details: map[string]dbus.Variant{
		"pid":        dbus.MakeVariant(uint32(os.Getpid())),
		"start-time": dbus.MakeVariant(st),
		"uid":        dbus.MakeVariant(int32(os.Getuid())),
	}}
	cancelID := "tokentray-" + rand.Text()
	var res authorizationResult
	obj := conn.Object(busName, objectPath)
	err = obj.CallWithContext(ctx, authority+".CheckAuthorization", 0,
		subj, ActionID, map[string]string{"what": what}, uint32(allowUserInteraction), cancelID).Store(&res)
	if ctx.Err() != nil {
		// Close polkit's dialog: the answer would come to nobody.
		cctx, ccancel := context.WithTimeout(context.Background(), a.cfg.CallTimeout)
		defer ccancel()
		_ = obj.CallWithContext(cctx, authority+".CancelCheckAuthorization", 0, cancelID).Err
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no confirmation within %s, so nothing was granted", a.cfg.Timeout)
		}
		return errors.New("the confirmation was cancelled, so nothing was granted")
	}
	if err != nil {
		switch dbusErrorName(err) {
		case "org.freedesktop.PolicyKit1.Error.Cancelled":
			return ErrDismissed
		case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner":
			return fmt.Errorf("%w: polkit is not running on the system bus", ErrUnavailable)
		}
		return fmt.Errorf("polkit could not check the confirmation: %w", err)
	}
	switch {
	case res.IsAuthorized:
		return nil
	case res.Details["polkit.dismissed"] == "true":
		return ErrDismissed
	case res.IsChallenge:
		return ErrNoAgent
	}
	return ErrNotAuthorized
}

// Available reports whether polkit answers on the system bus within
// CallTimeout and knows ActionID; reason says why not.
func (a *Authority) Available(ctx context.Context) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.CallTimeout)
	defer cancel()
	conn, err := a.connect(ctx)
	if err != nil {
		return false, err.Error()
	}
	defer conn.Close()
	var actions []actionDescription
	err = conn.Object(busName, objectPath).CallWithContext(ctx, authority+".EnumerateActions", 0, "").Store(&actions)
	switch {
	case ctx.Err() != nil:
		return false, fmt.Sprintf("polkit did not answer within %s", a.cfg.CallTimeout)
	case err != nil && (dbusErrorName(err) == "org.freedesktop.DBus.Error.ServiceUnknown" || dbusErrorName(err) == "org.freedesktop.DBus.Error.NameHasNoOwner"):
		return false, "polkit is not running on the system bus"
	case err != nil:
		return false, fmt.Sprintf("polkit could not list its actions: %v", err)
	}
	for _, act := range actions {
		if act.ActionID == ActionID {
			return true, ""
		}
	}
	return false, "polkit does not know tokentray's action " + ActionID +
		": install deploy/polkit/" + PolicyFile + " into /usr/share/polkit-1/actions"
}

// dbusErrorName is the D-Bus error name of err, or "".
func dbusErrorName(err error) string {
	var de dbus.Error
	if errors.As(err, &de) {
		return de.Name
	}
	var pde *dbus.Error
	if errors.As(err, &pde) {
		return pde.Name
	}
	return ""
}

// connect connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else its
// socket), giving up after CallTimeout or when ctx ends.
func (a *Authority) connect(ctx context.Context) (*dbus.Conn, error) {
	addr, err := dbusconn.SystemAddress(a.cfg.Getenv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	c, err := dbusconn.Connect(ctx, addr, a.cfg.CallTimeout)
	switch {
	case errors.Is(err, dbusconn.ErrNoAnswer):
		return nil, fmt.Errorf("%w: the system bus did not answer within %s", ErrUnavailable, a.cfg.CallTimeout)
	case err != nil:
		return nil, fmt.Errorf("%w: the system bus refused a connection: %w", ErrUnavailable, err)
	}
	return c, nil
}
