// Package polkit asks the system's polkit authority to confirm that a human
// is at the keyboard before the tray grants an app "Always": the user's
// password or fingerprint in polkit's own dialog, which a script cannot
// fill in the way it can click a button in our window.
//
// The action is io.github.tokentray.tokentray.approve-always, shipped in
// deploy/polkit/io.github.tokentray.tokentray.policy (`make install` puts
// it in $(PREFIX)/share/polkit-1/actions): auth_self for everyone, so polkit
// always asks and never remembers.
//
// Security model: polkit checks the subject it is given, this process, and
// answers only to it; a program that is not this process cannot make our
// check pass. Without a polkit authentication agent in the session polkit
// cannot ask, and Confirm refuses (ErrNoAgent); the tray then relies on its
// prompt's own guards, as where polkit does not run, and logs it.
package polkit

import (
	"context"
	"errors"
	"os"
	"time"
)

// ActionID is the polkit action Confirm checks.
const ActionID = "io.github.tokentray.tokentray.approve-always"

// PolicyFile is the name of the file that declares ActionID, in
// deploy/polkit/ and, installed, in polkit's actions folder.
const PolicyFile = "io.github.tokentray.tokentray.policy"

// The answers Confirm refuses with; callers branch on them with errors.Is.
var (
	ErrNotAuthorized = errors.New("polkit did not confirm that it is you at the keyboard, so nothing was granted")
	ErrDismissed     = errors.New("the password dialog was dismissed, so nothing was granted")
	ErrNoAgent       = errors.New("polkit could not ask for your password (no polkit authentication agent runs in this session), so nothing was granted")
	ErrUnavailable   = errors.New("polkit is not available here")
)

// Config configures an Authority. The zero value asks the system's polkit.
type Config struct {
	// Getenv reads DBUS_SYSTEM_BUS_ADDRESS; default os.Getenv.
	Getenv func(string) string
	// Timeout bounds a confirmation, a human typing a password included;
	// default 2 minutes.
	Timeout time.Duration
	// CallTimeout bounds connecting to the system bus and Available's
	// question; default 3 seconds.
	CallTimeout time.Duration
}

// Authority is polkit's authority as Confirm and Available reach it.
type Authority struct {
	cfg Config
}

// New returns the Authority cfg describes.
func New(cfg Config) *Authority {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 3 * time.Second
	}
	return &Authority{cfg: cfg}
}

// Confirm asks the system's polkit to confirm that a human is at the
// keyboard; what says what is being confirmed and is shown in polkit's
// dialog. It matches app.ConfirmFunc.
func Confirm(ctx context.Context, what string) error { return New(Config{}).Confirm(ctx, what) }

// Available reports whether the system's polkit runs and knows ActionID;
// reason says why not, as a sentence.
func Available(ctx context.Context) (bool, string) { return New(Config{}).Available(ctx) }
